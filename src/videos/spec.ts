// Video specs: one YAML file per section, `docs/videos/specs/NN-name.yaml`. The format is described
// in docs/videos/specs/README.md; this file is its one definition (the JSON schema below).
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Document } from 'yaml';
import { StkError } from '../errors.ts';
import { isValidId, TENANT_ID_PATTERN } from '../ids.ts';

/** One thing to do on the page before the step's picture is taken. */
export type Action =
  | { click: string }
  | { type: { selector: string; text: string } }
  | { select: { selector: string; value: string } }
  | { press: { key: string; selector?: string } };

/** One step: open a page, act, wait, then one still picture with its narration. */
export interface Step {
  /** A path under the dashboard (`customers`, `t/{tenant}/alerts`), opened before anything else. */
  open?: string;
  do?: Action[];
  /** A selector that must be visible before the picture is taken. */
  wait?: string;
  /** A selector that must be gone (hidden or removed) before the picture is taken. */
  waitGone?: string;
  /** The element the narration talks about; the pointer glides to its centre. */
  point?: string;
  /** Narration, one sentence per entry: one audio file and one subtitle cue each. */
  say: string[];
}

/** A parsed, validated spec. */
export interface VideoSpec {
  /** `NN-name`, from the file name; the output files are called after it. */
  name: string;
  file: string;
  title: string;
  summary?: string;
  tenant?: string;
  viewport: { width: number; height: number };
  /** False when the steps sign in themselves (the sign-in section); the pipeline signs in otherwise. */
  signIn: boolean;
  steps: Step[];
}

/** The file names the pipeline takes as specs. */
export const SPEC_FILE_RE = /^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.yaml$/;

const selector = { type: 'string', minLength: 1, maxLength: 500 };
const action = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: {
    click: selector,
    type: {
      type: 'object',
      additionalProperties: false,
      required: ['selector', 'text'],
      properties: { selector, text: { type: 'string', maxLength: 2000 } },
    },
    select: {
      type: 'object',
      additionalProperties: false,
      required: ['selector', 'value'],
      properties: { selector, value: { type: 'string', maxLength: 200 } },
    },
    press: {
      type: 'object',
      additionalProperties: false,
      required: ['key'],
      properties: { selector, key: { type: 'string', minLength: 1, maxLength: 40 } },
    },
  },
};
const step = {
  type: 'object',
  additionalProperties: false,
  required: ['say'],
  properties: {
    // A path inside the dashboard only: no scheme, no host, no way up.
    open: { type: 'string', maxLength: 300, pattern: '^/?(?!/)(?!.*\\.\\.)(?!.*//)[A-Za-z0-9/_{}.?=&%-]*$' },
    do: { type: 'array', maxItems: 20, items: action },
    wait: selector,
    waitGone: selector,
    point: selector,
    say: { type: 'array', minItems: 1, maxItems: 8, items: { type: 'string', minLength: 2, maxLength: 400, pattern: '\\S' } },
  },
};

/** The JSON schema of a spec file. */
export const SPEC_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'steps'],
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 120 },
    summary: { type: 'string', maxLength: 600 },
    tenant: { type: 'string', pattern: TENANT_ID_PATTERN },
    viewport: {
      type: 'object',
      additionalProperties: false,
      required: ['width', 'height'],
      properties: { width: { type: 'integer', minimum: 640, maximum: 3840 }, height: { type: 'integer', minimum: 360, maximum: 2160 } },
    },
    signIn: { type: 'boolean' },
    steps: { type: 'array', minItems: 1, maxItems: 40, items: step },
  },
} as const;

const validate = new Ajv({ allErrors: false, strict: true }).compile(SPEC_SCHEMA);

/** The output size of every video; a spec's viewport is scaled to it and must have its shape. */
export const VIDEO_SIZE = { width: 1920, height: 1080 } as const;

function invalid(file: string, step: number | null, field: string, message: string): StkError {
  const where = step === null ? '' : `step ${step}: `;
  return new StkError('STK_ERR_VIDEO_SPEC_INVALID', `${file}: ${where}${field ? `${field}: ` : ''}${message}`, { file, step, field });
}

/** Turns an ajv error path (`/steps/2/do/0/click`) into a step number (3) and a field (`do[0].click`). */
function locate(err: ErrorObject): { step: number | null; field: string } {
  const parts = err.instancePath.split('/').slice(1);
  if (err.keyword === 'additionalProperties') parts.push(String(err.params.additionalProperty));
  if (err.keyword === 'required') parts.push(String(err.params.missingProperty));
  let step: number | null = null;
  if (parts[0] === 'steps' && parts.length > 1) {
    step = Number(parts[1]) + 1;
    parts.splice(0, 2);
  }
  const field = parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
  return { step, field };
}

function describe(err: ErrorObject, field: string): string {
  if (err.keyword === 'pattern' && field === 'open') return 'must be a path under the dashboard, like t/{tenant}/alerts';
  if (err.keyword === 'pattern' && field === 'tenant') return 'is not a tenant id';
  if (err.keyword === 'additionalProperties') return 'is not a known field';
  if (err.keyword === 'required') return 'is required';
  if (err.keyword === 'maxProperties' || err.keyword === 'minProperties') return 'an action has exactly one of click, type, select, press';
  return err.message ?? err.keyword;
}

/** The step (1-based) a YAML node belongs to, for errors the schema cannot see. */
function stepOfOffset(doc: Document, offset: number): number | null {
  const steps = isMap(doc.contents) ? doc.contents.get('steps', true) : null;
  if (!isSeq(steps)) return null;
  const i = steps.items.findIndex((n) => {
    const range = (n as YamlNode).range;
    return range ? offset >= range[0] && offset <= range[2] : false;
  });
  return i >= 0 ? i + 1 : null;
}

/** Parses and validates one spec's text. Throws STK_ERR_VIDEO_SPEC_INVALID naming the file, the step and the field. */
export function parseSpec(file: string, text: string): VideoSpec {
  const name = basename(file);
  const m = SPEC_FILE_RE.exec(name);
  if (!m) throw invalid(file, null, '', `a spec file is named NN-name.yaml (two digits, lowercase words joined by "-"), got ${JSON.stringify(name)}`);
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const step = stepOfOffset(doc, yamlError.pos[0]);
    const at = lines.linePos(yamlError.pos[0]);
    throw invalid(file, step, '', `not valid YAML (line ${at.line}, column ${at.col}): ${yamlError.message.split('\n')[0]}`);
  }
  const data = doc.toJS({ maxAliasCount: 0 }) as unknown;
  if (!validate(data)) {
    const err = validate.errors![0]!;
    const { step, field } = locate(err);
    throw invalid(file, step, field, describe(err, field));
  }
  const raw = data as Omit<VideoSpec, 'name' | 'file' | 'viewport' | 'signIn'> & { viewport?: VideoSpec['viewport']; signIn?: boolean };
  const viewport = raw.viewport ?? { ...VIDEO_SIZE };
  if (viewport.width * VIDEO_SIZE.height !== viewport.height * VIDEO_SIZE.width)
    throw invalid(file, null, 'viewport', `must have the video's shape (16:9, e.g. 1280×720 or 1920×1080), got ${viewport.width}×${viewport.height}`);
  raw.steps.forEach((s, i) => {
    const uses = [s.open, s.wait, s.waitGone, s.point, ...(s.do ?? []).map((a) => JSON.stringify(a))].some((v) => v?.includes('{tenant}'));
    if (uses && !raw.tenant) throw invalid(file, i + 1, 'tenant', 'the step uses {tenant} but the spec names no tenant');
  });
  if (!raw.steps[0]!.open) throw invalid(file, 1, 'open', 'the first step must open a page');
  return {
    name: `${m[1]}-${m[2]}`,
    file,
    title: raw.title,
    ...(raw.summary !== undefined ? { summary: raw.summary } : {}),
    ...(raw.tenant !== undefined ? { tenant: raw.tenant } : {}),
    viewport,
    signIn: raw.signIn ?? true,
    steps: raw.steps,
  };
}

/** Reads and validates one spec file. */
export async function loadSpec(file: string): Promise<VideoSpec> {
  return parseSpec(file, await readFile(file, 'utf8'));
}

/** Every spec of a folder (`NN-name.yaml`), in the order of their numbers; other files are ignored. */
export async function loadSpecs(dir: string): Promise<VideoSpec[]> {
  const names = (await readdir(dir)).filter((n) => SPEC_FILE_RE.test(n)).sort();
  const specs: VideoSpec[] = [];
  for (const n of names) specs.push(await loadSpec(join(dir, n)));
  return specs;
}

/** A copy of the spec with `{tenant}` replaced in paths, selectors and typed text. */
export function withTenant(spec: VideoSpec, tenant: string | undefined): VideoSpec {
  const t = tenant ?? spec.tenant;
  if (t === undefined) return spec;
  if (!isValidId('tenant', t)) throw invalid(spec.file, null, 'tenant', `not a tenant id: ${JSON.stringify(t)}`);
  const sub = (v: string): string => v.replaceAll('{tenant}', t);
  const act = (a: Action): Action => {
    if ('click' in a) return { click: sub(a.click) };
    if ('type' in a) return { type: { selector: sub(a.type.selector), text: sub(a.type.text) } };
    if ('select' in a) return { select: { selector: sub(a.select.selector), value: sub(a.select.value) } };
    return { press: { key: a.press.key, ...(a.press.selector !== undefined ? { selector: sub(a.press.selector) } : {}) } };
  };
  return {
    ...spec,
    tenant: t,
    steps: spec.steps.map((s) => ({
      ...s,
      ...(s.open !== undefined ? { open: sub(s.open) } : {}),
      ...(s.wait !== undefined ? { wait: sub(s.wait) } : {}),
      ...(s.waitGone !== undefined ? { waitGone: sub(s.waitGone) } : {}),
      ...(s.point !== undefined ? { point: sub(s.point) } : {}),
      ...(s.do !== undefined ? { do: s.do.map(act) } : {}),
    })),
  };
}
