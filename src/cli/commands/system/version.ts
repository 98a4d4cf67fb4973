/** `berth version`: client and server versions, laid out like `docker version`. */
import { API_VERSION } from '../../client.js';
import { goArch, clientVersion } from '../../build-info.js';
import { out, type CommandContext } from '../../context.js';
import { executeTemplate, parseTemplate } from '../../format.js';
import type { CommandSpec } from '../../registry.js';
import { tabwrite } from '../../tabwriter.js';
import { isRecord } from '../../../util/template/values.js';
import { objectFormatFlag } from '../common.js';

const DEFAULT_TEMPLATE = `{{with .Client -}}
Client:
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Node version:\t{{.NodeVersion}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if .ServerOK}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  {{- with index .Details "GoVersion"}}
  Runtime:\t{{.}}{{end}}
  {{- with index .Details "GitCommit"}}
  Git commit:\t{{.}}{{end}}
  {{- with index .Details "BuildTime"}}
  Built:\t{{.}}{{end}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  {{- with index .Details "KernelVersion"}}
  Kernel version:\t{{.}}{{end}}
  {{- with index .Details "Experimental"}}
  Experimental:\t{{.}}{{end}}
  {{- else}}
  Version:\t{{.Version}}
   {{- range $key, $value := .Details}}
  {{$key}}:\t{{$value}}
   {{- end}}
  {{- end}}
 {{- end}}
{{- end}}{{- end}}`;

type Json = Record<string, unknown>;

function clientSection(ctx: CommandContext): Json {
  return {
    Platform: { Name: '' },
    Version: clientVersion(),
    ApiVersion: ctx.client.apiVersion,
    DefaultAPIVersion: API_VERSION,
    NodeVersion: process.version,
    Os: process.platform,
    Arch: goArch(),
    Context: 'default',
  };
}

/** The server's answer with the fields the template reads always present; old servers get an Engine component. */
function serverSection(v: Json): Json {
  const platform = isRecord(v.Platform) ? v.Platform : {};
  const components = Array.isArray(v.Components) && v.Components.length > 0 ? v.Components : [{ Name: 'Engine', Version: v.Version }];
  const topLevel = {
    ApiVersion: v.ApiVersion,
    MinAPIVersion: v.MinAPIVersion,
    GoVersion: v.GoVersion,
    GitCommit: v.GitCommit,
    BuildTime: v.BuildTime,
    Os: v.Os,
    Arch: v.Arch,
    KernelVersion: v.KernelVersion,
    Experimental: v.Experimental === undefined ? undefined : String(v.Experimental),
  };
  const filled = components.filter(isRecord).map((c) => {
    if (c.Name !== 'Engine') return { ...c, Details: isRecord(c.Details) ? c.Details : {} };
    const details: Json = {};
    for (const [k, val] of Object.entries(topLevel)) if (val !== undefined && val !== '') details[k] = String(val);
    return { ...c, Details: { ...details, ...(isRecord(c.Details) ? c.Details : {}) } };
  });
  return { ...v, Platform: { Name: typeof platform.Name === 'string' ? platform.Name : '' }, Components: filled };
}

async function run(ctx: CommandContext): Promise<void> {
  const format = ctx.flags.string('format');
  const template = parseTemplate(format === '' ? DEFAULT_TEMPLATE : format === 'json' ? '{{json .}}' : format);
  let server: Json | null = null;
  let failure: unknown;
  try {
    const v = await ctx.client.json<unknown>('GET', '/version');
    server = serverSection(isRecord(v) ? v : {});
  } catch (e: unknown) {
    failure = e;
  }
  const data = { Client: clientSection(ctx), Server: server, ServerOK: (): boolean => server !== null };
  out(ctx, tabwrite(`${executeTemplate(template, data)}\n`, { minWidth: 20, padding: 1 }));
  if (failure !== undefined) throw failure;
}

export const version: CommandSpec = {
  path: ['version'],
  usage: '[OPTIONS]',
  summary: 'Show the berth version information',
  flags: [objectFormatFlag('f')],
  args: { max: 0 },
  run,
};
