/** Container names: Docker's rule for given names, and generated ones. */
import { randomInt } from 'node:crypto';
import { invalid } from '../../errors.js';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The name without its leading '/', or a clear error. */
export function validateName(name: string): string {
  if (!VALID.test(name) || name.length > 255) {
    throw invalid(`Invalid container name (${name.slice(0, 64)}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name.slice(1) : name;
}

const LEFT = ['admiring', 'brave', 'calm', 'eager', 'focused', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'nifty', 'quirky', 'serene', 'vibrant', 'wizardly', 'zen'];
const RIGHT = ['albattani', 'babbage', 'curie', 'darwin', 'einstein', 'fermi', 'galileo', 'hopper', 'johnson', 'lovelace', 'noether', 'pasteur', 'ritchie', 'shannon', 'turing', 'wozniak'];

/** adjective_surname, as Docker makes them; the caller retries on a clash. */
export function generateName(attempt: number): string {
  const base = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
  return attempt > 0 ? `${base}${randomInt(10)}` : base;
}
