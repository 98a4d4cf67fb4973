#!/usr/bin/env node
import { main } from '../daemon/main.js';

void main(process.argv.slice(2));
