// A real OpenID Connect provider for the single sign-on tests (tests/conftest_oidc.py):
// oauth2-mock-server on 127.0.0.1, a fresh RS256 signing key, discovery, JWKS, the
// authorization code flow with PKCE and nonce. It signs in whoever asks, as the person the
// test chose: the claims file (a JSON object: email, email_verified, name, sub …) is read
// each time a token is signed, so what the test wrote last is what the ID token says.
//
// Usage: node oidc_provider.mjs <port> <claims file>; prints "issuer <url>" once it listens.
import { readFileSync } from 'node:fs';
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const claimsFile = process.argv[3];
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

// Every token it signs carries the chosen claims (the ID token is the one the app reads).
server.service.on('beforeTokenSigning', (token) => {
  Object.assign(token.payload, JSON.parse(readFileSync(claimsFile, 'utf8') || '{}'));
});

await server.start(port, '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(`issuer ${server.issuer.url}`);

const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
