const crypto = require('crypto');

function verify(secret, headers, rawBody /* Buffer */, toleranceSeconds = 300) {
  const safeEqual = (a, b) => {
    const x = Buffer.from(a), y = Buffer.from(b);
    return x.length === y.length && crypto.timingSafeEqual(x, y);
  };
  // Blue's X-Signature: hex HMAC of the raw body, key = the secret string
  const blue = crypto.createHmac('sha256', secret).update(rawBody).digest('hex');
  const blueOk = (headers['x-signature'] || '').split(' ').some((s) => safeEqual(s, blue));
  // Standard Webhooks: one of the space-separated signatures (two during a rotation)
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const id = headers['webhook-id'], ts = headers['webhook-timestamp'];
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`), rawBody]);
  const v1 = 'v1,' + crypto.createHmac('sha256', key).update(signed).digest('base64');
  const stdOk = (headers['webhook-signature'] || '').split(' ').some((s) => safeEqual(s, v1));
  const fresh = Math.abs(Date.now() / 1000 - Number(ts)) <= toleranceSeconds;
  return blueOk && stdOk && fresh;
}
module.exports = { verify };
// Express: app.post('/blue', express.raw({ type: 'application/json' }), (req, res) =>
//   res.sendStatus(verify(process.env.BLUE_SECRET, req.headers, req.body) ? 204 : 401));
