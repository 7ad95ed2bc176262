// Schema conformance: schemas/package.schema.json (checked with ajv) and the C++ `ahub validate`
// must agree on every manifest in fixtures/ and on the seed packages in packages/.
//
//   node tests/schema/conformance.mjs PATH/TO/ahub     full check (what ctest runs)
//   node tests/schema/conformance.mjs --no-ahub        the schema and the corpus alone, said so
//
// For each fixture: good/*.yaml must be valid and bad/*.yaml invalid, for ajv and for ahub alike.
// A bad fixture's first line `# expect-error: PATH` names the field it breaks; ajv must report an
// error at that field (so the fixture breaks the rule it says, and no unrelated one), and one of
// ahub's errors must carry that path, none of them being about an unrelated field. ahub's --json output must match
// schemas/validate-report.schema.json, with exit status 0 for valid and 2 for invalid. The example
// reports in fixtures/reports/ must match schemas/report.schema.json.
// Prints one line per check, then `N passed, N failed`; exits 1 if any check failed.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const kHere = path.dirname(fileURLToPath(import.meta.url));
const kRoot = path.resolve(kHere, "..", "..");
const kSchemaDir = path.join(kRoot, "schemas");
const kFixtureDir = path.join(kHere, "fixtures");
const kPackagesDir = path.join(kRoot, "packages");
const kAhubTimeoutMs = 30_000;
const kExpectErrorRe = /^# expect-error: (\S+)\s*$/;

async function LoadDependencies() {
  try {
    const ajvModule = await import("ajv/dist/2020.js");
    const formatsModule = await import("ajv-formats");
    const yamlModule = await import("yaml");
    return {
      Ajv2020: ajvModule.default,
      addFormats: formatsModule.default,
      YAML: yamlModule.default,
    };
  } catch (err) {
    console.error(`conformance: cannot load ajv, ajv-formats and yaml (${err.message}).`);
    console.error("Install them with: npm ci --prefix tests/schema");
    process.exit(1);
  }
}

function Relative(p) {
  return path.relative(kRoot, p);
}

// claims[0].expect.rel -> /claims/0/expect/rel (the fixtures' paths hold no '/' or '~').
function FieldPathToPointer(fieldPath) {
  if (fieldPath === "") return "";
  return "/" + fieldPath.replace(/\[(\d+)\]/g, ".$1").split(".").join("/");
}

// The instance locations an ajv error is about. A missing or unknown property is located at the
// property itself, a repeated array item at its second occurrence, so that they compare with the
// field paths that ahub reports. Inside a oneOf (the expect forms) the branches that do not apply
// report missing and unknown keys by the dozen; those stay at the object the oneOf is about.
function AjvErrorLocations(err) {
  const at = err.instancePath;
  const p = err.params ?? {};
  if (err.schemaPath.includes("/oneOf/")) return [at];
  switch (err.keyword) {
    case "required":
    case "dependentRequired":
      return [`${at}/${p.missingProperty}`];
    case "additionalProperties":
      return [`${at}/${p.additionalProperty}`];
    case "uniqueItems":
      return [`${at}/${Math.max(p.i, p.j)}`];
    default:
      return [at];
  }
}

function IsSameOrNested(a, b) {
  return a === b || a.startsWith(b + "/") || b.startsWith(a + "/");
}

function DescribeAjvErrors(errors) {
  return (errors ?? [])
    .map((e) => `${e.instancePath || "/"} ${e.message}` +
      (e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""))
    .join("; ");
}

function DescribeAhubErrors(errors) {
  return (errors ?? []).map((e) => `${e.line}:${e.column} ${e.path}: ${e.message}`).join("; ");
}

// Every property of every object schema carries a title and a description (directly or on the
// schema it refers to): they are the format's documentation.
function UndocumentedProperties(schema) {
  const missing = [];
  const resolve = (s) => {
    if (s && typeof s.$ref === "string" && s.$ref.startsWith("#/$defs/")) {
      return { ...schema.$defs[s.$ref.slice("#/$defs/".length)], ...s };
    }
    return s;
  };
  const walk = (s, where) => {
    if (Array.isArray(s)) {
      s.forEach((item, i) => walk(item, `${where}/${i}`));
      return;
    }
    if (!s || typeof s !== "object") return;
    for (const [key, sub] of Object.entries(s.properties ?? {})) {
      const r = resolve(sub);
      if (!r.title || !r.description) missing.push(`${where}/properties/${key}`);
    }
    for (const [key, sub] of Object.entries(s)) {
      // if/then/else only narrow properties documented where they are declared.
      if (typeof sub === "object" && !["if", "then", "else"].includes(key)) walk(sub, `${where}/${key}`);
    }
  };
  walk(schema, "#");
  return missing;
}

class Tally {
  constructor() {
    this.passed = 0;
    this.failed = 0;
  }
  Pass(name, detail = "") {
    this.passed += 1;
    console.log(`ok   ${name}${detail ? "  " + detail : ""}`);
  }
  Fail(name, problems) {
    this.failed += 1;
    console.log(`FAIL ${name}`);
    for (const p of problems) console.log(`       ${p}`);
  }
}

// Parses a manifest as the hub does: YAML 1.2 core schema, then its JSON form (which has no NaN
// or infinity: those become null and fail the schema's number types).
function ParseManifest(YAML, text) {
  const doc = YAML.parseDocument(text);  // defaults: version 1.2, core schema, unique keys
  if (doc.errors.length > 0) {
    return { yamlError: doc.errors.map((e) => e.message).join("; ") };
  }
  return { json: JSON.parse(JSON.stringify(doc.toJS() ?? null)) };
}

function RunAhubValidate(ahub, target, validateReport) {
  const run = spawnSync(ahub, ["validate", "--json", target], {
    cwd: kRoot,
    encoding: "utf8",
    timeout: kAhubTimeoutMs,
  });
  if (run.error) return { problem: `could not run ${ahub}: ${run.error.message}` };
  if (run.signal) return { problem: `ahub validate ended by ${run.signal}; stderr: ${run.stderr.trim()}` };
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch (err) {
    return { problem: `ahub validate --json printed no JSON (exit ${run.status}): ${run.stdout.slice(0, 200)}` };
  }
  const problems = [];
  if (!validateReport(report)) {
    problems.push(`ahub output does not match validate-report.schema.json: ${DescribeAjvErrors(validateReport.errors)}`);
  }
  const wantExit = report.valid === true ? 0 : 2;
  if (run.status !== wantExit) {
    problems.push(`ahub exit status ${run.status} with "valid": ${report.valid}; expected ${wantExit}`);
  }
  for (const e of report.errors ?? []) {
    if (!(Number.isInteger(e.line) && e.line >= 1 && Number.isInteger(e.column) && e.column >= 1)) {
      problems.push(`ahub error without a position (line ${e.line}, column ${e.column}): ${e.path}: ${e.message}`);
    }
  }
  return { report, problems };
}

function CheckFixture(ctx, file, expectValid) {
  const name = Relative(file);
  const text = fs.readFileSync(file, "utf8");
  const problems = [];

  let expectedPath = null;
  const firstLine = text.split("\n", 1)[0];
  const header = kExpectErrorRe.exec(firstLine);
  if (expectValid && header) problems.push("a good fixture has an expect-error line");
  if (!expectValid) {
    if (!header) problems.push("first line is not `# expect-error: <field path>`");
    else expectedPath = header[1];
  }

  // The schema's verdict.
  const parsed = ParseManifest(ctx.YAML, text);
  let ajvValid = false;
  if (parsed.yamlError) {
    // A bad fixture may break a YAML rule (a repeated key): then the YAML parser decides.
    if (expectValid) problems.push(`not parseable as YAML 1.2: ${parsed.yamlError}`);
  } else {
    ajvValid = ctx.validatePackage(parsed.json);
    const ajvErrors = ctx.validatePackage.errors ?? [];
    if (ajvValid !== expectValid) {
      problems.push(`ajv says ${ajvValid ? "valid" : "invalid"}, fixture is ${expectValid ? "good" : "bad"}` +
        (ajvValid ? "" : `: ${DescribeAjvErrors(ajvErrors)}`));
    }
    if (!expectValid && !ajvValid && expectedPath !== null) {
      const want = FieldPathToPointer(expectedPath);
      const locations = ajvErrors.flatMap(AjvErrorLocations);
      if (!locations.includes(want)) {
        problems.push(`ajv reports no error at ${expectedPath}: ${DescribeAjvErrors(ajvErrors)}`);
      }
      const unrelated = locations.filter((l) => !IsSameOrNested(l, want));
      if (unrelated.length > 0) {
        problems.push(`fixture breaks more than ${expectedPath}; ajv also reports ${[...new Set(unrelated)].join(", ")}`);
      }
    }
  }

  // ahub's verdict.
  let ahubSummary = "";
  if (ctx.ahub) {
    const r = RunAhubValidate(ctx.ahub, file, ctx.validateReport);
    if (r.problem) {
      problems.push(r.problem);
    } else {
      problems.push(...r.problems);
      const ahubValid = r.report.valid === true;
      if (ahubValid !== ajvValid) {
        problems.push(`DISAGREE: ajv says ${ajvValid ? "valid" : "invalid"}, ahub says ${ahubValid ? "valid" : "invalid"}` +
          (ahubValid ? "" : `: ${DescribeAhubErrors(r.report.errors)}`));
      } else if (ahubValid !== expectValid) {
        problems.push(`ahub says ${ahubValid ? "valid" : "invalid"}, fixture is ${expectValid ? "good" : "bad"}`);
      }
      if (!expectValid && !ahubValid && expectedPath !== null) {
        const errors = r.report.errors ?? [];
        if (!errors.some((e) => e.path === expectedPath)) {
          problems.push(`ahub reports no error at ${expectedPath}: ${DescribeAhubErrors(errors)}`);
        }
        // The fixture breaks one rule, so every error ahub finds is about that field.
        const want = FieldPathToPointer(expectedPath);
        const unrelated = errors.filter((e) => !IsSameOrNested(FieldPathToPointer(e.path), want));
        if (unrelated.length > 0) {
          problems.push(`ahub also reports errors elsewhere: ${DescribeAhubErrors(unrelated)}`);
        }
      }
      ahubSummary = ahubValid ? "ahub: valid" : `ahub: ${(r.report.errors ?? []).map((e) => e.path).join(", ")}`;
    }
  }

  if (problems.length > 0) ctx.tally.Fail(name, problems);
  else ctx.tally.Pass(name, expectValid ? ahubSummary : `[${expectedPath}] ${ahubSummary}`);
}

function CheckPackage(ctx, dir) {
  const manifest = path.join(dir, "package.yaml");
  const name = Relative(manifest);
  const problems = [];
  const parsed = ParseManifest(ctx.YAML, fs.readFileSync(manifest, "utf8"));
  if (parsed.yamlError) {
    problems.push(`not parseable as YAML 1.2: ${parsed.yamlError}`);
  } else if (!ctx.validatePackage(parsed.json)) {
    problems.push(`ajv: ${DescribeAjvErrors(ctx.validatePackage.errors)}`);
  }
  if (ctx.ahub) {
    const r = RunAhubValidate(ctx.ahub, dir, ctx.validateReport);
    if (r.problem) problems.push(r.problem);
    else {
      problems.push(...r.problems);
      if (r.report.valid !== true) problems.push(`ahub: ${DescribeAhubErrors(r.report.errors)}`);
    }
  }
  if (problems.length > 0) ctx.tally.Fail(name, problems);
  else ctx.tally.Pass(name);
}

function ListYaml(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort().map((f) => path.join(dir, f));
}

async function Main() {
  const args = process.argv.slice(2);
  let ahub = null;
  if (args.length === 1 && args[0] === "--no-ahub") {
    ahub = null;
  } else if (args.length === 1) {
    ahub = path.resolve(args[0]);
  } else {
    console.error("usage: node tests/schema/conformance.mjs PATH/TO/ahub | --no-ahub");
    process.exit(2);
  }

  const { Ajv2020, addFormats, YAML } = await LoadDependencies();
  const tally = new Tally();

  // The schemas themselves: strict mode refuses unknown keywords, keywords without their type,
  // and anything else ambiguous; compiling checks each against the 2020-12 meta-schema.
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const compiled = {};
  for (const file of ["package.schema.json", "report.schema.json", "validate-report.schema.json"]) {
    const name = `schemas/${file}`;
    try {
      const schema = JSON.parse(fs.readFileSync(path.join(kSchemaDir, file), "utf8"));
      ajv.addSchema(schema, file);
      compiled[file] = schema;
    } catch (err) {
      tally.Fail(name, [`not loadable: ${err.message}`]);
    }
  }
  const validators = {};
  for (const [file, schema] of Object.entries(compiled)) {
    const name = `schemas/${file}`;
    try {
      validators[file] = ajv.getSchema(schema.$id);
      const undocumented = UndocumentedProperties(schema);
      if (undocumented.length > 0) tally.Fail(name, [`properties without title or description: ${undocumented.join(", ")}`]);
      else tally.Pass(name, "compiles in strict mode; every property documented");
    } catch (err) {
      tally.Fail(name, [`does not compile in strict mode: ${err.message}`]);
    }
  }
  const validatePackage = validators["package.schema.json"];
  const validateReport = validators["validate-report.schema.json"];
  if (!validatePackage || !validateReport || !validators["report.schema.json"]) {
    console.log(`${tally.passed} passed, ${tally.failed} failed`);
    process.exit(1);
  }

  if (ahub === null) {
    console.log("note: --no-ahub: comparing with `ahub validate` was not asked for; only the schema is checked");
  } else if (!fs.existsSync(ahub)) {
    tally.Fail("ahub", [`no ahub binary at ${ahub}`]);
    ahub = null;
  }

  const ctx = { YAML, validatePackage, validateReport, ahub, tally };
  const good = ListYaml(path.join(kFixtureDir, "good"));
  const bad = ListYaml(path.join(kFixtureDir, "bad"));
  if (good.length === 0 || bad.length === 0) tally.Fail("fixtures", ["fixtures/good or fixtures/bad is empty"]);
  for (const f of good) CheckFixture(ctx, f, true);
  for (const f of bad) CheckFixture(ctx, f, false);

  // Example reports (the README's among them) must match report.schema.json.
  const validateVerifyReport = validators["report.schema.json"];
  for (const file of fs.readdirSync(path.join(kFixtureDir, "reports")).filter((f) => f.endsWith(".json")).sort()) {
    const full = path.join(kFixtureDir, "reports", file);
    if (validateVerifyReport(JSON.parse(fs.readFileSync(full, "utf8")))) tally.Pass(Relative(full));
    else tally.Fail(Relative(full), [`report.schema.json: ${DescribeAjvErrors(validateVerifyReport.errors)}`]);
  }

  const packages = fs.existsSync(kPackagesDir)
    ? fs.readdirSync(kPackagesDir).map((d) => path.join(kPackagesDir, d))
        .filter((d) => fs.existsSync(path.join(d, "package.yaml"))).sort()
    : [];
  for (const dir of packages) CheckPackage(ctx, dir);

  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  process.exit(tally.failed > 0 ? 1 : 0);
}

await Main();
