// idp.mjs - a real OpenID Provider (panva's oidc-provider) for loopback integration tests.
//
//   node idp.mjs genkeys [PREFIX] > keys.json   # write a private JWKS (RS256, PS256, ES256, EdDSA keys)
//   IDP_PORT=18200 IDP_JWKS_FILE=keys.json node idp.mjs   # serve; prints "IDP_READY <issuer>" when listening
//   kill -HUP <pid>   # re-read IDP_JWKS_FILE and swap to a new Provider in place (key rotation, same port)
//   kill -TERM <pid>  # clean exit
//
// Environment: IDP_PORT (18200), IDP_JWKS_FILE (unset: fresh keys generated in memory),
// IDP_AT_TTL (300 s), IDP_DEFAULT_RESOURCE (https://api.mod-validate-jwt.test/), IDP_CLIENT_SECRET (test-secret),
// IDP_TLS_CERT + IDP_TLS_KEY (PEM files: serve https, issuer becomes https://127.0.0.1:PORT).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';

const HOST = '127.0.0.1';
const PORT = Number(process.env.IDP_PORT || 18200);
const TLS = process.env.IDP_TLS_CERT && process.env.IDP_TLS_KEY
  ? { cert: readFileSync(process.env.IDP_TLS_CERT), key: readFileSync(process.env.IDP_TLS_KEY) } : null;
const ISSUER = `${TLS ? 'https' : 'http'}://${HOST}:${PORT}`;
const AT_TTL = Number(process.env.IDP_AT_TTL || 300);
const DEFAULT_RESOURCE = process.env.IDP_DEFAULT_RESOURCE || 'https://api.mod-validate-jwt.test/';
const SECRET = process.env.IDP_CLIENT_SECRET || 'test-secret';
// One confidential client per access-token signing algorithm (all use SECRET, client_secret_basic).
const CLIENT_ALG = { 'client-rs256': 'RS256', 'client-ps256': 'PS256', 'client-es256': 'ES256', 'client-eddsa': 'EdDSA' };

function genkeys(prefix = 'k1') {
  const jwk = (type, opts, alg, kid) => ({
    ...generateKeyPairSync(type, opts).privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid,
  });
  return {
    keys: [
      jwk('rsa', { modulusLength: 2048 }, 'RS256', `${prefix}-rs256`),
      jwk('rsa', { modulusLength: 2048 }, 'PS256', `${prefix}-ps256`),
      jwk('ec', { namedCurve: 'P-256' }, 'ES256', `${prefix}-es256`),
      jwk('ed25519', {}, 'EdDSA', `${prefix}-eddsa`),
    ],
  };
}

if (process.argv[2] === 'genkeys') {
  process.stdout.write(`${JSON.stringify(genkeys(process.argv[3]), null, 2)}\n`);
  process.exit(0);
}
// imported only now so that "genkeys" runs without loading (and without the warnings of) oidc-provider
const { default: Provider } = await import('oidc-provider');

const loadJwks = () => (process.env.IDP_JWKS_FILE
  ? JSON.parse(readFileSync(process.env.IDP_JWKS_FILE, 'utf8'))
  : genkeys());

function makeProvider(jwks) {
  const provider = new Provider(ISSUER, {
    jwks,
    clients: Object.keys(CLIENT_ALG).map((clientId) => ({
      client_id: clientId,
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // no "resource" parameter in the token request -> this audience
        defaultResource: async () => DEFAULT_RESOURCE,
        // any absolute URI is accepted as resource; it becomes the token's "aud"
        getResourceServerInfo: async (ctx, resource, client) => ({
          scope: 'read write',
          accessTokenTTL: AT_TTL,
          accessTokenFormat: 'jwt',
          // signs with the first key in jwks.keys usable for this alg (keys declaring this alg beat
          // keys without "alg"); its kid goes in the JWS header
          jwt: { sign: { alg: CLIENT_ALG[client.clientId] } },
        }),
      },
    },
    ttl: { ClientCredentials: AT_TTL }, // same as the default, but silences its NOTICE
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  return provider;
}

let handler = makeProvider(loadJwks()).callback();
const server = TLS
  ? createTlsServer(TLS, (req, res) => handler(req, res))
  : createServer((req, res) => handler(req, res));

process.on('SIGHUP', () => {
  try {
    handler = makeProvider(loadJwks()).callback();
    console.log('IDP_RELOADED');
  } catch (err) {
    console.error('IDP_RELOAD_FAILED', err);
  }
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

server.listen(PORT, HOST, () => console.log(`IDP_READY ${ISSUER}`));
