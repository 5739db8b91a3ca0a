// compile.mjs compiles contracts.sol with the pinned solc-js (installed by
// scripts/setup-node-solc.sh into node_modules) and prints contracts.json:
// each contract's ABI and creation bytecode, keys sorted.
//   node compile.mjs > contracts.json
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const solc = require("solc");

const input = {
  language: "Solidity",
  sources: { "contracts.sol": { content: readFileSync(new URL("./contracts.sol", import.meta.url), "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const result = { compiler: "solc-js " + solc.version(), contracts: {} };
for (const name of Object.keys(out.contracts["contracts.sol"]).sort()) {
  const c = out.contracts["contracts.sol"][name];
  result.contracts[name] = { abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
}
process.stdout.write(JSON.stringify(result, null, 1) + "\n");
