const crypto = require('crypto');

function verify(secret, headers, rawBody /* Buffer */, toleranceSeconds = 300) {
  if (!Buffer.isBuffer(rawBody)) throw new TypeError('pass the raw body Buffer, before any JSON parsing');
  // Standard Webhooks key: the base64 after whsec_ (strict, as Blue decodes it), else the secret's bytes
  const b64 = /^whsec_((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/.exec(secret);
  const key = b64 ? Buffer.from(b64[1], 'base64') : Buffer.from(String(secret || ''));
  if (typeof secret !== 'string' || !key.length) throw new Error('no secret'); // an empty key lets anyone sign
  const safeEqual = (a, b) => {
    const x = Buffer.from(a), y = Buffer.from(b);
    return x.length === y.length && crypto.timingSafeEqual(x, y);
  };
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])); // any case
  const header = (name) => (typeof lower[name] === 'string' ? lower[name] : '');
  // Blue's X-Signature: hex HMAC of the raw body, key = the secret string
  const blue = crypto.createHmac('sha256', secret).update(rawBody).digest('hex');
  const blueOk = header('x-signature').split(' ').some((s) => safeEqual(s, blue));
  // Standard Webhooks: one of the space-separated signatures (two during a rotation)
  const id = header('webhook-id'), ts = header('webhook-timestamp');
  const signed = Buffer.concat([Buffer.from(`${id}.${ts}.`), rawBody]);
  const v1 = 'v1,' + crypto.createHmac('sha256', key).update(signed).digest('base64');
  const stdOk = id !== '' && header('webhook-signature').split(' ').some((s) => safeEqual(s, v1));
  const fresh = /^[0-9]{1,12}$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= toleranceSeconds;
  return blueOk && stdOk && fresh;
}
module.exports = { verify };
// Express: app.post('/blue', express.raw({ type: 'application/json' }), (req, res) =>
//   res.sendStatus(verify(process.env.BLUE_SECRET, req.headers, req.body) ? 204 : 401));
