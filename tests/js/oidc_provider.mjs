// A real OpenID Connect provider for the single sign-on tests (tests/conftest_oidc.py):
// oauth2-mock-server on 127.0.0.1, a fresh RS256 signing key, discovery, JWKS, the
// authorization code flow with PKCE and nonce. It signs in whoever asks, as the person
// the test chose: POST /test/claims with a JSON object sets the claims of the ID tokens
// it issues from then on (email, email_verified, name, sub …).
//
// Usage: node oidc_provider.mjs <port>; prints "issuer <url>" once it listens.
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number(process.argv[2] || 0);
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');

let claims = {};

server.service.addRoute('POST', '/test/claims', (req, res) => {
  claims = typeof req.body === 'string' ? JSON.parse(req.body || '{}') : { ...req.body };
  res.writeHead(204);
  res.end();
});

// Every token it signs carries the chosen claims (the ID token is the one the app reads).
server.service.on('beforeTokenSigning', (token) => {
  Object.assign(token.payload, claims);
});

await server.start(port, '127.0.0.1');
server.issuer.url = `http://127.0.0.1:${server.address().port}`;
console.log(`issuer ${server.issuer.url}`);

const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
