/**
 * Output of list and inspect commands, as the docker CLI produces it:
 * - `--format ''` or `table`: the command's default table (or its quiet form with -q);
 * - `table TEMPLATE`: a table whose header row is the same template run over the
 *   column titles, laid out by the tabwriter;
 * - `json`: one JSON object a line; `raw`: the command's raw form if it has one;
 * - anything else: a Go template run for each item, each followed by a newline.
 * In formats, the two characters `\t` and `\n` stand for tab and newline.
 */
import { CliError } from './errors.js';
import { tabwrite } from './tabwriter.js';
import { Template, TemplateError } from '../util/template/exec.js';
import { HEADER_FUNCS } from '../util/template/funcs.js';
import { strict } from '../util/template/values.js';

export interface ListFormat {
  /** e.g. 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}'. */
  readonly table: string;
  /** Used for `-q` with the table format; default `{{.ID}}`. */
  readonly quiet?: string;
  readonly raw?: string;
  /** Column titles by field name: { ID: 'NETWORK ID', Name: 'NAME' }. */
  readonly headers: Readonly<Record<string, string>>;
  /** Fields of the items that are methods taking arguments, like `Label`. */
  readonly methods?: readonly string[];
}

/** Docker's `truncate(id)`: the first 12 characters of an ID. */
export function shortId(id: string): string {
  const hex = id.startsWith('sha256:') ? id.slice('sha256:'.length) : id;
  return hex.slice(0, 12);
}

/** Parses a user template, turning template errors into docker's CLI message. */
export function parseTemplate(src: string): Template {
  try {
    return Template.parse(src);
  } catch (e: unknown) {
    if (e instanceof TemplateError) throw new CliError(`template parsing error: ${e.message}`);
    throw e;
  }
}

export function executeTemplate(t: Template, data: unknown): string {
  try {
    return t.execute(data);
  } catch (e: unknown) {
    if (e instanceof TemplateError) throw new CliError(e.message);
    throw e;
  }
}

/** Renders items (formatting contexts: plain objects, methods allowed) with a --format value. */
export function renderList(items: readonly object[], format: string, quiet: boolean, spec: ListFormat): string {
  const chosen = chooseFormat(format, quiet, spec);
  const isTable = chosen.startsWith('table');
  let body = isTable ? chosen.slice('table'.length) : chosen === 'json' ? '{{json .}}' : chosen;
  body = body.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const template = parseTemplate(body);
  const rows = items.map((item) => `${executeTemplate(template, strict(item))}\n`).join('');
  if (!isTable) return rows;
  const header = headerRow(template, spec);
  return tabwrite(`${header}\n${rows}`);
}

function chooseFormat(format: string, quiet: boolean, spec: ListFormat): string {
  if (format === '' || format === 'table') return quiet ? (spec.quiet ?? '{{.ID}}') : spec.table;
  if (format === 'raw' && spec.raw !== undefined) return spec.raw;
  return format;
}

/** The header row: the template run over the column titles instead of an item. */
function headerRow(template: Template, spec: ListFormat): string {
  const titles: Record<string, unknown> = {};
  for (const [field, title] of Object.entries(spec.headers)) {
    // A method field (`{{.Label "com.x"}}`) takes arguments; its title ignores them.
    titles[field] = spec.methods?.includes(field) ? (): string => title : title;
  }
  try {
    return template.execute(titles, HEADER_FUNCS);
  } catch (e: unknown) {
    if (e instanceof TemplateError) return '';
    throw e;
  }
}

/** Docker's inspect output: a JSON array indented by 4 spaces, or a template per item. */
export function renderInspect(items: readonly unknown[], format: string): string {
  if (format === '' || format === 'json') return `${JSON.stringify(items, null, 4)}\n`;
  const template = parseTemplate(format);
  return items.map((item) => `${executeTemplate(template, item)}\n`).join('');
}
