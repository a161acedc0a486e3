// Checks on terraform/ that need no terraform binary (none can be installed on these machines):
// every .tf file parses with HashiCorp's own HCL parser (@cdktf/hcl2json, the Go parser built
// to WebAssembly); each module has the five files of the terraform-aws-modules shape; every
// variable has a type and a description and every output a description; and every module call
// in the root passes only inputs the module declares, and all of its required ones.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const MODULES = [
  "cloudwatch_alarms",
  "cloudwatch_metrics",
  "lambda_function",
  "log_alerts",
  "observability_ec2",
  "s3_buckets",
  "sns_notifications",
];
const MODULE_FILES = ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"];
// Arguments of a module block that are Terraform's, not the module's inputs.
const META_ARGUMENTS = new Set(["source", "version", "count", "for_each", "providers", "depends_on"]);

const directories = [root, ...MODULES.map((name) => join(root, "modules", name))];

function tfFiles(directory) {
  return readdirSync(directory)
    .filter((file) => file.endsWith(".tf"))
    .sort()
    .map((file) => join(directory, file));
}

/** The blocks of one kind (`variable`, `output`, `module`) across a directory's files. */
async function blocks(directory, kind) {
  const found = {};
  for (const file of tfFiles(directory)) {
    const parsed = await parse(relative(root, file), readFileSync(file, "utf8"));
    for (const [name, [body]] of Object.entries(parsed[kind] ?? {})) {
      assert.ok(!(name in found), `${kind} "${name}" is declared twice in ${relative(root, directory)}`);
      found[name] = body;
    }
  }
  return found;
}

test("every module has the five files", () => {
  for (const name of MODULES) {
    for (const file of MODULE_FILES) {
      assert.ok(existsSync(join(root, "modules", name, file)), `modules/${name}/${file} is missing`);
    }
  }
  for (const file of ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "terraform.tfvars.example"]) {
    assert.ok(existsSync(join(root, file)), `${file} is missing`);
  }
});

test("every .tf file parses with HashiCorp's HCL parser", async () => {
  const files = directories.flatMap(tfFiles);
  assert.ok(files.length >= 4 * (MODULES.length + 1), `only ${files.length} .tf files found`);
  for (const file of files) {
    await assert.doesNotReject(parse(relative(root, file), readFileSync(file, "utf8")), relative(root, file));
  }
});

test("versions.tf pins Terraform and the AWS provider", async () => {
  for (const directory of directories) {
    const file = join(directory, "versions.tf");
    const parsed = await parse("versions.tf", readFileSync(file, "utf8"));
    const terraform = parsed.terraform?.[0] ?? {};
    assert.ok(terraform.required_version, `${relative(root, file)}: no required_version`);
    const providers = terraform.required_providers?.[0] ?? {};
    assert.equal(providers.aws?.source, "hashicorp/aws", `${relative(root, file)}: aws provider not pinned`);
    assert.ok(providers.aws?.version, `${relative(root, file)}: aws provider has no version constraint`);
  }
});

test("every variable has a type and a description, every output a description", async () => {
  for (const directory of directories) {
    const where = relative(root, directory) || "root";
    const variables = await blocks(directory, "variable");
    assert.ok(Object.keys(variables).length > 0, `${where} declares no variables`);
    for (const [name, body] of Object.entries(variables)) {
      assert.ok(body.type, `${where}: variable "${name}" has no type`);
      assert.ok(body.description?.trim(), `${where}: variable "${name}" has no description`);
    }
    for (const [name, body] of Object.entries(await blocks(directory, "output"))) {
      assert.ok(body.description?.trim(), `${where}: output "${name}" has no description`);
    }
  }
});

test("root module calls pass only declared inputs and every required one", async () => {
  const calls = await blocks(root, "module");
  assert.deepEqual(
    [...new Set(Object.values(calls).map((call) => call.source))].sort(),
    MODULES.map((name) => `./modules/${name}`),
    "the root must call each module",
  );
  for (const [call, body] of Object.entries(calls)) {
    const declared = await blocks(join(root, body.source), "variable");
    const passed = Object.keys(body).filter((key) => !META_ARGUMENTS.has(key));
    for (const input of passed) {
      assert.ok(input in declared, `module "${call}" passes "${input}", which ${body.source} does not declare`);
    }
    for (const [name, variable] of Object.entries(declared)) {
      if (!("default" in variable)) {
        assert.ok(passed.includes(name), `module "${call}" does not pass required input "${name}"`);
      }
    }
  }
});
