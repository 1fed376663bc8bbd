// Compact JWE tokens made by node `jose` (tests/idp/node_modules) for test_280_jwe.py.
// stdin: {"jobs": [{"alg", "enc", "key": JWK (public for RSA/EC, the secret for oct),
//                   "header": {extra protected header members, e.g. kid, cty},
//                   "plaintext": "..."}]}
// stdout: the tokens, a JSON array in the order of the jobs.
const jose = await import(new URL('../../idp/node_modules/jose/dist/webapi/index.js', import.meta.url));

let input = '';
for await (const chunk of process.stdin) {
  input += chunk;
}
const { jobs } = JSON.parse(input);
const out = [];
for (const j of jobs) {
  const key = j.key.kty === 'oct' ? jose.base64url.decode(j.key.k) : await jose.importJWK(j.key, j.alg);
  const enc = new jose.CompactEncrypt(new TextEncoder().encode(j.plaintext))
    .setProtectedHeader({ alg: j.alg, enc: j.enc, ...(j.header || {}) });
  out.push(await enc.encrypt(key));
}
process.stdout.write(JSON.stringify(out));
