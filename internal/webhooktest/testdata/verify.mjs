// verify.mjs — an independent Standard Webhooks verifier for heistgraph's
// tests: the standardwebhooks npm package (the specification's own
// JavaScript library), installed here by scripts/setup-node-webhooks.sh.
//
// It reads one JSON object a line on stdin,
//   {"secret": "whsec_...", "headers": {"webhook-id": ..., ...}, "body": BASE64}
// and answers one line on stdout for each:
//   {"ok": true, "payload": <the verified JSON body>} or {"ok": false, "error": "..."}.
import { createInterface } from "node:readline";
import { Webhook } from "standardwebhooks";

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (line.trim() === "") continue;
  let out;
  try {
    const req = JSON.parse(line);
    const wh = new Webhook(req.secret);
    const payload = wh.verify(Buffer.from(req.body, "base64"), req.headers);
    out = { ok: true, payload };
  } catch (e) {
    out = { ok: false, error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
