#!/usr/bin/env node
// Validates a CloudFormation template offline, with two independent checks:
//
//  cdk   aws-cdk-lib's CfnInclude reads the template into L1 constructs and synthesizes it with
//        the feature flag @aws-cdk/core:validateAgainstDefaultRules, so CDK's "CloudFormation
//        Validate" plugin (AWS's CloudFormation resource provider schemas, bundled) turns every
//        finding into an error: missing required properties, wrong types, unknown property names.
//        Errors CfnInclude raises itself (unknown resource types, bad intrinsics) count too.
//  spec  every resource type, property name (nested property types included), required property,
//        GetAtt attribute, Ref / Sub variable and condition name is looked up in the CloudFormation
//        resource specification of @aws-cdk/aws-service-spec (the database CDK generates its L1
//        classes from), independently of CDK's synthesis.
//
// Usage: node validate.js TEMPLATE...  (exit 1 and one line per problem when any is found)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import YAML from 'yaml';

export const VALIDATE_FLAG = '@aws-cdk/core:validateAgainstDefaultRules';

// ---- reading templates (YAML with CloudFormation's short-form tags, or JSON) ----
const FN_TAGS = ['And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'If', 'ImportValue', 'Join', 'Not', 'Or', 'Select',
  'Split', 'Sub', 'Transform', 'GetAtt'];

function cfn_tags() {
  const tags = [];
  const make = (tag, build) => {
    tags.push({ tag, resolve: (value) => build(value) });
    tags.push({ tag, collection: 'seq', resolve: (seq) => build(seq.toJSON()) });
    tags.push({ tag, collection: 'map', resolve: (map) => build(map.toJSON()) });
  };
  make('!Ref', (v) => ({ Ref: v }));
  make('!Condition', (v) => ({ Condition: v }));
  for (const fn of FN_TAGS) {
    make(`!${fn}`, (v) => ({ [`Fn::${fn}`]: fn === 'GetAtt' && typeof v === 'string' ? split_getatt(v) : v }));
  }
  return tags;
}

function split_getatt(v) {
  const dot = v.indexOf('.');
  return dot < 0 ? [v] : [v.slice(0, dot), v.slice(dot + 1)];
}

export function read_template(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (/^\s*\{/.test(text)) return JSON.parse(text);
  const doc = YAML.parseDocument(text, { customTags: cfn_tags(), uniqueKeys: true, strict: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS({ maxAliasCount: 100 });
}

// ---- the cdk check ----
let cdk_modules = null;
async function load_cdk() {
  if (!cdk_modules) {
    const [core, include] = await Promise.all([import('aws-cdk-lib'), import('aws-cdk-lib/cloudformation-include')]);
    cdk_modules = { App: core.App, Stack: core.Stack, CfnInclude: include.CfnInclude };
  }
  return cdk_modules;
}

// -> [{check:'cdk', message}]
export async function cdk_check(file) {
  const { App, Stack, CfnInclude } = await load_cdk();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'hypertest-cfn-'));
  const problems = [];
  // The plugin prints its report; the same report is read back from validation-report.json.
  const saved = { log: console.log, error: console.error, warn: console.warn };
  console.log = console.error = console.warn = () => {};
  try {
    const app = new App({ outdir, context: { [VALIDATE_FLAG]: true } });
    const stack = new Stack(app, 'HypertestValidation');
    new CfnInclude(stack, 'Template', { templateFile: file });
    app.synth();
  } catch (e) {
    const report_file = path.join(outdir, 'validation-report.json');
    if (!fs.existsSync(report_file)) problems.push({ check: 'cdk', message: String(e.message).split('\n')[0] });
  } finally {
    Object.assign(console, saved);
  }
  const report_file = path.join(outdir, 'validation-report.json');
  if (fs.existsSync(report_file)) {
    const report = JSON.parse(fs.readFileSync(report_file, 'utf8'));
    for (const plugin of report.pluginReports || []) {
      for (const v of plugin.violations || []) {
        const where = (v.violatingConstructs || []).map((c) => {
          const r = c.cloudFormationResource || {};
          return `${r.logicalId}${(r.propertyPaths || []).length ? ` ${r.propertyPaths.join(', ')}` : ''}`;
        }).join('; ');
        problems.push({ check: 'cdk', rule: v.ruleName, message: `${v.severity} ${v.ruleName} ${where}: ${v.description}` });
      }
    }
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  return problems;
}

// ---- the spec check ----
let spec_db = null;
async function load_spec() {
  if (!spec_db) spec_db = await (await import('@aws-cdk/aws-service-spec')).loadAwsServiceSpec();
  return spec_db;
}

const TOP_LEVEL = ['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Rules', 'Mappings', 'Conditions', 'Transform',
  'Resources', 'Outputs'];
const RESOURCE_KEYS = ['Type', 'Properties', 'Condition', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'Metadata',
  'CreationPolicy', 'UpdatePolicy'];
const PSEUDO = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId',
  'AWS::StackName', 'AWS::URLSuffix'];

const is_intrinsic = (v) => v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 &&
  (Object.keys(v)[0] === 'Ref' || Object.keys(v)[0].startsWith('Fn::') || Object.keys(v)[0] === 'Condition');

// -> [{check:'spec', message}]
export async function spec_check(template) {
  const db = await load_spec();
  const problems = [];
  const report = (message) => problems.push({ check: 'spec', message });
  if (!template || typeof template !== 'object') return [{ check: 'spec', message: 'the template is not an object' }];
  for (const key of Object.keys(template)) if (!TOP_LEVEL.includes(key)) report(`unknown top-level section ${key}`);
  const resources = template.Resources || {};
  const parameters = template.Parameters || {};
  const conditions = template.Conditions || {};
  if (!Object.keys(resources).length) report('the template has no Resources');
  const specs = {};
  for (const [id, res] of Object.entries(resources)) {
    for (const key of Object.keys(res || {})) if (!RESOURCE_KEYS.includes(key)) report(`${id}: unknown resource attribute ${key}`);
    const found = db.lookup('resource', 'cloudFormationType', 'equals', res?.Type || '');
    if (!found.length) {
      report(`${id}: unknown resource type ${res?.Type}`);
      continue;
    }
    specs[id] = found.only();
    if (res.Condition !== undefined && !(res.Condition in conditions)) report(`${id}: unknown condition ${res.Condition}`);
    for (const dep of [].concat(res.DependsOn || [])) if (!(dep in resources)) report(`${id}: DependsOn unknown resource ${dep}`);
    check_properties(db, `${id}.Properties`, res.Properties || {}, specs[id].properties, report);
  }

  const names = new Set([...Object.keys(parameters), ...Object.keys(resources), ...PSEUDO]);
  const check_getatt = (where, id, attr) => {
    if (!(id in resources)) return report(`${where}: GetAtt of unknown resource ${id}`);
    if (specs[id] && !(attr in specs[id].attributes)) report(`${where}: ${resources[id].Type} has no attribute ${attr}`);
    return undefined;
  };
  const walk = (where, v) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(`${where}[${i}]`, x));
    if (!v || typeof v !== 'object') return undefined;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'Ref' && typeof x === 'string' && !names.has(x)) report(`${where}: Ref to unknown ${x}`);
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(x) ? x : split_getatt(String(x));
        if (typeof attr === 'string') check_getatt(where, id, attr);
      }
      if (k === 'Fn::Sub') {
        const [text, vars] = Array.isArray(x) ? x : [x, {}];
        for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const ref = m[1].trim();
          if (vars && ref in vars) continue;
          const dot = ref.indexOf('.');
          if (dot > 0) check_getatt(where, ref.slice(0, dot), ref.slice(dot + 1));
          else if (!names.has(ref)) report(`${where}: Sub variable \${${ref}} is not a parameter, resource or pseudo parameter`);
        }
        if (/\$\{[^}]*$/.test(String(text))) report(`${where}: Sub string has an unclosed \${`);
      }
      if ((k === 'Condition' && where.includes('Conditions')) || k === 'Fn::If') {
        const cond = k === 'Fn::If' ? x?.[0] : x;
        if (typeof cond === 'string' && !(cond in conditions)) report(`${where}: unknown condition ${cond}`);
      }
      walk(`${where}.${k}`, x);
    }
    return undefined;
  };
  walk('Resources', resources);
  walk('Outputs', template.Outputs || {});
  walk('Conditions', conditions);
  for (const [id, out] of Object.entries(template.Outputs || {})) {
    if (out?.Value === undefined) report(`Outputs.${id}: no Value`);
    if (out?.Condition !== undefined && !(out.Condition in conditions)) report(`Outputs.${id}: unknown condition ${out.Condition}`);
  }
  return problems;
}

// Values of a property: the branches of Fn::If, else the value itself (other intrinsics: unknown).
function alternatives(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && 'Fn::If' in v && Array.isArray(v['Fn::If'])) {
    return v['Fn::If'].slice(1).flatMap(alternatives);
  }
  if (v && typeof v === 'object' && v.Ref === 'AWS::NoValue') return [];
  return [v];
}

function check_properties(db, where, props, spec_props, report) {
  if (is_intrinsic(props)) return;
  if (!props || typeof props !== 'object' || Array.isArray(props)) {
    report(`${where}: expected an object`);
    return;
  }
  for (const [name, spec] of Object.entries(spec_props)) {
    if (spec.required && !(name in props)) report(`${where}: missing required property ${name}`);
  }
  for (const [name, value] of Object.entries(props)) {
    const spec = spec_props[name];
    if (!spec) {
      const near = nearest(name, Object.keys(spec_props));
      report(`${where}: unknown property ${name}${near ? ` (did you mean ${near}?)` : ''}`);
      continue;
    }
    for (const v of alternatives(value)) check_value(db, `${where}.${name}`, v, spec.type, report);
  }
}

// The known name closest to a misspelt one (edit distance <= 2, or one contains the other), or null.
function nearest(name, known) {
  const a = name.toLowerCase();
  let best = null;
  let best_d = 3;
  for (const k of known) {
    const b = k.toLowerCase();
    let d = (a.includes(b) || b.includes(a)) && Math.abs(a.length - b.length) <= 2 ? Math.abs(a.length - b.length) : 3;
    if (d > 2 && Math.abs(a.length - b.length) <= 2) {
      let prev = [...Array(b.length + 1).keys()];
      for (let i = 1; i <= a.length; i += 1) {
        const row = [i];
        for (let j = 1; j <= b.length; j += 1) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row;
      }
      d = prev[b.length];
    }
    if (d < best_d) [best, best_d] = [k, d];
  }
  return best;
}

function check_value(db, where, value, type, report) {
  if (is_intrinsic(value) || value === undefined) return;
  if (type.type === 'ref') {
    const def = db.get('typeDefinition', type.reference.$ref);
    check_properties(db, where, value, def.properties, report);
  } else if (type.type === 'array') {
    if (!Array.isArray(value)) return report(`${where}: expected a list`);
    value.forEach((x, i) => alternatives(x).forEach((y) => check_value(db, `${where}[${i}]`, y, type.element, report)));
  } else if (type.type === 'map') {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return report(`${where}: expected a map`);
    for (const [k, x] of Object.entries(value)) check_value(db, `${where}.${k}`, x, type.element, report);
  } else if (type.type === 'union') {
    // Accept the value if any member type accepts it.
    const results = type.types.map((t) => {
      const errs = [];
      check_value(db, where, value, t, (m) => errs.push(m));
      return errs;
    });
    if (!results.some((errs) => !errs.length)) results[0].forEach(report);
  } else if (['string', 'number', 'integer', 'boolean', 'date-time'].includes(type.type)) {
    if (value !== null && typeof value === 'object') report(`${where}: expected a ${type.type}, got ${Array.isArray(value) ? 'a list' : 'an object'}`);
  }
  return undefined;
}

// Both checks on one template file -> [{check, message}]
export async function validate(file) {
  let template;
  try {
    template = read_template(file);
  } catch (e) {
    return [{ check: 'parse', message: e.message }];
  }
  return [...await spec_check(template), ...await cdk_check(file)];
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  const files = process.argv.slice(2);
  if (!files.length) {
    process.stderr.write('usage: node validate.js TEMPLATE...\n');
    process.exit(2);
  }
  let failed = false;
  for (const file of files) {
    const problems = await validate(file);
    for (const p of problems) process.stdout.write(`${file}: [${p.check}] ${p.message}\n`);
    if (problems.length) failed = true;
    else process.stdout.write(`${file}: valid\n`);
  }
  process.exit(failed ? 1 : 0);
}
