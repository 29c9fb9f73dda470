import { createHash } from 'node:crypto';

/** The parts of a CloudFormation template the local runner reads. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Parameters?: Record<string, { Default?: unknown }>;
  Resources: Record<string, CfnResource>;
}

export const LOCAL_ACCOUNT_ID = '123456789012';

/** Reads an untyped template (what `synthTemplate` returns), refusing one with no resources. */
export function asTemplate(value: unknown): CfnTemplate {
  const resources = (value as { Resources?: unknown } | null)?.Resources;
  if (!resources || typeof resources !== 'object') throw new Error('template has no Resources section');
  return value as CfnTemplate;
}

/** Each service's limits on a generated physical name. */
const NAME_LIMITS: Record<string, { max: number; fifoSuffix?: boolean }> = {
  'AWS::SQS::Queue': { max: 80, fifoSuffix: true },
  'AWS::DynamoDB::Table': { max: 255 },
  'AWS::Scheduler::ScheduleGroup': { max: 64 },
  'AWS::Lambda::Function': { max: 64 },
  'AWS::IAM::Role': { max: 64 },
  'AWS::IAM::Policy': { max: 128 },
};

/**
 * A name like the one CloudFormation generates (`Stack-LogicalId-SUFFIX`), but with the suffix
 * hashed from stack and logical id instead of random: provisioning again finds the same resources.
 */
export function physicalName(stackName: string, logicalId: string, type: string, fifo = false): string {
  const limit = NAME_LIMITS[type]?.max ?? 64;
  const suffix = createHash('sha256')
    .update(`${stackName}/${logicalId}`)
    .digest('hex')
    .slice(0, 12)
    .toUpperCase();
  const tail = fifo && NAME_LIMITS[type]?.fifoSuffix ? '.fifo' : '';
  const clean = (text: string) => text.replace(/[^0-9A-Za-z_-]/g, '');
  const room = limit - suffix.length - tail.length - 2;
  // CloudFormation trims the stack and logical id parts alike when the whole would be too long.
  let stack = clean(stackName);
  let logical = clean(logicalId);
  while (stack.length + logical.length > room) {
    if (stack.length >= logical.length) stack = stack.slice(0, -1);
    else logical = logical.slice(0, -1);
  }
  return `${stack}-${logical}-${suffix}${tail}`;
}

/** What is known about one resource once it exists: its `Ref` value and its attributes. */
export interface Physical {
  ref: string;
  attributes: Record<string, string>;
}

export interface ResolveContext {
  region: string;
  accountId: string;
  stackName: string;
  template: CfnTemplate;
  /** The physical facts of a resource by logical id; throws when it cannot be known. */
  physical(logicalId: string): Physical;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

function pseudo(name: string, ctx: ResolveContext): string | undefined {
  switch (name) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/local`;
    case 'AWS::NoValue':
      return undefined;
    default:
      return undefined;
  }
}

function ref(name: string, ctx: ResolveContext, path: string): unknown {
  if (name.startsWith('AWS::')) {
    if (name === 'AWS::NoValue') return undefined;
    const value = pseudo(name, ctx);
    if (value === undefined) throw new TemplateError(`${path}: unsupported pseudo parameter ${name}`);
    return value;
  }
  const parameter = ctx.template.Parameters?.[name];
  if (parameter) {
    if (parameter.Default === undefined) throw new TemplateError(`${path}: parameter ${name} has no Default`);
    return parameter.Default;
  }
  return ctx.physical(name).ref;
}

function getAtt(spec: unknown, ctx: ResolveContext, path: string): string {
  const [logicalId, attribute] = Array.isArray(spec) ? spec : String(spec).split(/\.(.*)/s);
  const physical = ctx.physical(String(logicalId));
  const value = physical.attributes[String(attribute)];
  if (value === undefined) {
    throw new TemplateError(`${path}: ${logicalId} has no attribute ${attribute} here`);
  }
  return value;
}

function sub(spec: unknown, ctx: ResolveContext, path: string): string {
  const [text, variables] = Array.isArray(spec) ? spec : [spec, {}];
  const vars = resolveValue(variables ?? {}, ctx, `${path}.Fn::Sub[1]`) as Record<string, unknown>;
  return String(text).replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    if (name in vars) return String(vars[name]);
    if (name.includes('.')) return getAtt(name, ctx, path);
    return String(ref(name, ctx, path));
  });
}

/**
 * Resolves the intrinsic functions a synthesized stack uses where the local runner reads (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64) against what was provisioned.
 * An unsupported function is an error naming where it was, never a silently wrong value.
 */
export function resolveValue(value: unknown, ctx: ResolveContext, path = '$'): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item, index) => resolveValue(item, ctx, `${path}[${index}]`))
      .filter((item) => item !== undefined);
  }
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0] as [string, unknown];
    const at = `${path}.${key}`;
    switch (key) {
      case 'Ref':
        return ref(String(arg), ctx, at);
      case 'Fn::GetAtt':
        return getAtt(arg, ctx, at);
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown];
        const list = resolveValue(parts, ctx, at) as unknown[];
        return list.map(String).join(separator);
      }
      case 'Fn::Sub':
        return sub(arg, ctx, at);
      case 'Fn::Select': {
        const [index, list] = resolveValue(arg, ctx, at) as [number | string, unknown[]];
        const item = list[Number(index)];
        if (item === undefined) throw new TemplateError(`${at}: index ${index} out of range`);
        return item;
      }
      case 'Fn::Split': {
        const [separator, text] = resolveValue(arg, ctx, at) as [string, string];
        return String(text).split(separator);
      }
      case 'Fn::Base64':
        return Buffer.from(String(resolveValue(arg, ctx, at))).toString('base64');
      default:
        if (key.startsWith('Fn::') || key === 'Condition') {
          throw new TemplateError(`${at}: intrinsic ${key} is not supported by the local runner`);
        }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    const resolved = resolveValue(item, ctx, `${path}.${key}`);
    if (resolved !== undefined) out[key] = resolved;
  }
  return out;
}

/** Logical ids a value refers to (Ref, Fn::GetAtt, and names inside Fn::Sub). */
export function referencedIds(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, into);
  } else if (value && typeof value === 'object') {
    for (const [key, arg] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof arg === 'string' && !arg.startsWith('AWS::')) into.add(arg);
      else if (key === 'Fn::GetAtt') {
        into.add(String(Array.isArray(arg) ? arg[0] : String(arg).split('.')[0]));
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(arg) ? arg[0] : arg;
        for (const match of String(text).matchAll(/\$\{([^!}][^}.]*)(?:\.[^}]*)?\}/g)) {
          if (!(match[1] as string).startsWith('AWS::')) into.add(match[1] as string);
        }
        if (Array.isArray(arg)) referencedIds(arg[1], into);
      } else referencedIds(arg, into);
    }
  }
  return into;
}

/** Logical ids of the given types, ordered so that every resource comes after those it refers to. */
export function dependencyOrder(template: CfnTemplate, types: ReadonlySet<string>): string[] {
  const ids = Object.keys(template.Resources).filter((id) => types.has(template.Resources[id]?.Type ?? ''));
  const wanted = new Set(ids);
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting')
      throw new TemplateError(`circular reference: ${[...trail, id].join(' → ')}`);
    state.set(id, 'visiting');
    const resource = template.Resources[id] as CfnResource;
    const deps = referencedIds(resource.Properties ?? {});
    for (const dep of [resource.DependsOn ?? []].flat()) deps.add(dep);
    for (const dep of deps) if (wanted.has(dep)) visit(dep, [...trail, id]);
    state.set(id, 'done');
    ordered.push(id);
  };
  for (const id of ids) visit(id, []);
  return ordered;
}
