// The checks Visa's reference documents for a push funds transaction (Funds Transfer API,
// pushfundstransactions POST), each refusal worded for Visa's validation answer (README.md gives
// the source of every rule).
//   validatePush(body) -> {push, pan, key, minorUnits, currency} or {errors: ['field: what', ...]}
//     key: acquiringBin/retrievalReferenceNumber/systemsTraceAuditNumber, as the Transaction
//     Query finds a transaction; minorUnits: the amount as an integer of the currency's minor units
//   transactionKey(bin, rrn, stan) -> the same key from query parameters
//   kCurrencies: alpha code -> [numeric code, exponent]
const kMoneyTransfer = ['AA', 'PP', 'BI', 'FT', 'WT', 'TU'];
const kDisbursement = ['FD', 'MD', 'GD', 'PD', 'OG', 'GP', 'LO', 'CO', 'BB', 'CP'];
const kSourceOfFunds = ['01', '02', '03', '04', '05', '06'];
const kUsOrCanada = ['USA', 'CAN', '840', '124'];

// ISO 4217: the currencies payoutd pays in, with their numeric codes and minor units.
export const kCurrencies = {
  RUB: ['643', 2], EUR: ['978', 2], USD: ['840', 2], KZT: ['398', 2], GBP: ['826', 2], CAD: ['124', 2],
  JPY: ['392', 0], KWD: ['414', 3], AED: ['784', 2], AMD: ['051', 2], AUD: ['036', 2], AZN: ['944', 2],
  BHD: ['048', 3], BYN: ['933', 2], CHF: ['756', 2], CLP: ['152', 0], CNY: ['156', 2], CZK: ['203', 2],
  DKK: ['208', 2], GEL: ['981', 2], HKD: ['344', 2], ILS: ['376', 2], INR: ['356', 2], IQD: ['368', 3],
  ISK: ['352', 0], JOD: ['400', 3], KGS: ['417', 2], KRW: ['410', 0], LYD: ['434', 3], MDL: ['498', 2],
  NOK: ['578', 2], OMR: ['512', 3], PLN: ['985', 2], SEK: ['752', 2], SGD: ['702', 2], TJS: ['972', 2],
  TMT: ['934', 2], TND: ['788', 3], TRY: ['949', 2], UAH: ['980', 2], UZS: ['860', 2], VND: ['704', 0],
};
const kByNumeric = Object.fromEntries(Object.entries(kCurrencies).map(([alpha, [numeric]]) => [numeric, alpha]));

export function transactionKey(bin, rrn, stan) {
  return `${bin}/${rrn}/${stan}`;
}

// A value Visa's schema types as an integer but its samples send as a string: digits either way.
function digitsOf(value, min, max) {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value)
    : typeof value === 'string' ? value : null;
  if (text === null || !/^[0-9]+$/.test(text)) return null;
  return text.length >= min && text.length <= max ? text : null;
}

function validRrn(rrn) {
  // "Recommended Format: ydddhhnnnnnn. The first four digits must be a valid yddd date."
  if (typeof rrn !== 'string' || !/^[0-9]{12}$/.test(rrn)) return false;
  const day = Number(rrn.slice(1, 4));
  return day >= 1 && day <= 366;
}

function validLocalTime(text) {
  const m = typeof text === 'string' && text.match(/^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})$/);
  if (!m) return false;
  const date = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return date.toISOString().startsWith(`${text}.`);
}

// The amount in the currency's minor units, or a reason. Visa: "Maximum value: 999999999.999 …
// If a currency has 0 minor unit, this field must carry no fractional points. If a currency has
// 2 minor units, the field must carry maximum two fractional points. If a currency has three
// decimal places, the last digit of this field must be zero."
export function minorUnitsOf(amount, exponent) {
  let text;
  if (typeof amount === 'number') {
    if (!Number.isFinite(amount)) return 'not a number';
    text = String(amount);
  } else if (typeof amount === 'string') {
    text = amount;
  } else {
    return 'not a decimal number';
  }
  const m = text.match(/^([0-9]{1,9})(?:\.([0-9]+))?$/);
  if (!m) return 'not a decimal of at most 9 integer digits';
  const fraction = m[2] ?? '';
  if (fraction.length > Math.min(exponent, 3)) return `more than ${exponent} fractional digits for the currency`;
  if (exponent === 3 && fraction.length === 3 && !fraction.endsWith('0')) return 'the third fractional digit must be zero';
  return Number(m[1]) * 10 ** exponent + Number(fraction.padEnd(exponent, '0') || '0');
}

class Checker {
  constructor(object, prefix = '') {
    this.object = object;
    this.prefix = prefix;
    this.errors = [];
  }

  // A field that must (or may) be present and, when present, pass `test` (value -> truthy).
  field(name, test, what, { required = false } = {}) {
    const value = this.object[name];
    if (value === undefined || value === null || value === '') {
      if (required) this.errors.push(`${this.prefix}${name}: expected field not present`);
      return undefined;
    }
    if (!test(value)) {
      this.errors.push(`${this.prefix}${name}: ${what}`);
      return undefined;
    }
    return value;
  }
}

const text = (max, pattern = null) => (v) => typeof v === 'string' && v.length <= max && (!pattern || pattern.test(v));

function checkCardAcceptor(c) {
  const acceptor = c.field('cardAcceptor', (v) => typeof v === 'object' && !Array.isArray(v), 'must be an object',
                           { required: true });
  if (!acceptor) return;
  const a = new Checker(acceptor, 'cardAcceptor.');
  a.field('name', text(25), 'at most 25 characters', { required: true });
  a.field('terminalId', text(8), 'at most 8 characters', { required: true });
  a.field('idCode', text(15), 'at most 15 characters', { required: true });
  const address = a.field('address', (v) => typeof v === 'object' && !Array.isArray(v), 'must be an object',
                          { required: true });
  c.errors.push(...a.errors);
  if (!address) return;
  const ad = new Checker(address, 'cardAcceptor.address.');
  const country = ad.field('country', text(3, /^[A-Z]{3}$/), 'a 3-letter country code', { required: true });
  const northAmerica = kUsOrCanada.includes(country);
  ad.field('state', text(3), 'at most 3 characters', { required: northAmerica });
  ad.field('zipCode', text(14), 'at most 14 characters', { required: northAmerica });
  ad.field('county', text(20), 'at most 20 characters', { required: country === 'USA' });
  c.errors.push(...ad.errors);
}

// Sender fields by business application id: a money transfer carries the sender and the sender's
// account (or a reference); a funds disbursement carries the originator as sender and a reference.
function checkSender(c, bai) {
  const transfer = kMoneyTransfer.includes(bai);
  const disbursement = kDisbursement.includes(bai);
  c.field('senderName', text(30), 'at most 30 characters', { required: transfer || disbursement });
  const country = c.field('senderCountryCode', text(3, /^([A-Z]{3}|[0-9]{3})$/), 'a 3-letter or 3-digit country code',
                          { required: transfer || disbursement });
  c.field('senderStateCode', text(2, /^[A-Z0-9]{2}$/), '2 characters', { required: kUsOrCanada.includes(country) });
  c.field('senderAddress', text(35), 'at most 35 characters');
  c.field('senderCity', text(25), 'at most 25 characters');
  const account = c.field('senderAccountNumber', text(34, /^[0-9A-Za-z]+$/), 'at most 34 letters or digits');
  c.field('senderReference', text(16, /^[0-9A-Za-z]*$/), 'at most 16 letters or digits',
          { required: disbursement || (transfer && account === undefined) });
  c.field('sourceOfFundsCode', (v) => kSourceOfFunds.includes(v), 'one of 01 to 06', { required: true });
}

function checkRecipient(c) {
  c.field('recipientPrimaryAccountNumber', text(19, /^[0-9]{13,19}$/), '13 to 19 digits', { required: true });
  c.field('recipientName', text(30), 'at most 30 characters');
  const country = c.field('recipientCountryCode', text(3, /^([A-Z]{3}|[0-9]{3})$/), 'a 3-letter or 3-digit country code');
  c.field('recipientState', text(3), 'at most 3 characters', { required: kUsOrCanada.includes(country) });
}

function checkAmount(c, body) {
  const code = c.field('transactionCurrencyCode', (v) => typeof v === 'string' && (kCurrencies[v] || kByNumeric[v]),
                       'not a supported ISO 4217 alpha or numeric code', { required: true });
  const currency = code === undefined ? undefined : (kCurrencies[code] ? code : kByNumeric[code]);
  if (body.amount === undefined || body.amount === null || body.amount === '') {
    c.errors.push('amount: expected field not present');
    return {};
  }
  if (currency === undefined) return {};
  const minor = minorUnitsOf(body.amount, kCurrencies[currency][1]);
  if (typeof minor === 'string') {
    c.errors.push(`amount: ${minor}`);
    return {};
  }
  return { currency, minorUnits: minor };
}

export function validatePush(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { errors: ['request: not a JSON object'] };
  const c = new Checker(body);
  const stan = c.field('systemsTraceAuditNumber', (v) => digitsOf(v, 6, 6), 'exactly 6 digits', { required: true });
  const rrn = c.field('retrievalReferenceNumber', validRrn, 'not 12 digits in the ydddhhnnnnnn format', { required: true });
  c.field('localTransactionDateTime', validLocalTime, 'not a date and time as YYYY-MM-DDThh:mm:ss', { required: true });
  const bin = c.field('acquiringBin', (v) => digitsOf(v, 6, 11), '6 to 11 digits', { required: true });
  c.field('acquirerCountryCode', (v) => digitsOf(v, 3, 3), 'a 3-digit numeric country code', { required: true });
  const bai = c.field('businessApplicationId', (v) => [...kMoneyTransfer, ...kDisbursement].includes(v),
                      'not a business application id', { required: true });
  checkCardAcceptor(c);
  checkRecipient(c);
  const money = checkAmount(c, body);
  if (bai) checkSender(c, bai);
  c.field('merchantCategoryCode', (v) => digitsOf(v, 4, 4), '4 digits');
  c.field('transactionIdentifier', (v) => digitsOf(v, 15, 15), '15 digits');
  if (c.errors.length) return { errors: c.errors };
  return {
    push: body, pan: body.recipientPrimaryAccountNumber,
    key: transactionKey(digitsOf(bin, 6, 11), rrn, digitsOf(stan, 6, 6)), ...money,
  };
}
