// The checks Mastercard Send documents for a payment_transfer (the Send P2P spec's PaymentTransfer
// definition) and a payment_disbursement (the Send Disbursements spec's PaymentDisbursement), and
// their error format (developer.mastercard.com, Send "Error Codes").
//   validateTransfer(body) -> {transfer, recipientPan} or {errors: [error item, ...]}
//   validateDisbursement(body) -> {transfer: the disbursement, recipientPan} or {errors: [...]}
//   errorBody(items) -> the {"Errors":{"Error":[...]}} document
//   serviceError(source, reasonCode, description, detailCode) -> one error item
import { randomBytes } from 'node:crypto';
import { luhnValid } from '../common/cards.mjs';

const kMissing = '092000';  // ErrorDetailCode Mastercard shows with MISSING_REQUIRED_INPUT
const kInvalid = '082000';  // and with INVALID_INPUT_VALUE
const kReference = /^[A-Za-z0-9*,\-._~]{6,40}$/;
const kAmount = /^[1-9][0-9]{0,11}$/;  // minor units, 1..999999999999, the decimal point implied
const kCurrency = /^[A-Z]{3}$/;
const kCountry = /^[A-Z]{3}$/;
const kFundingSources = ['CREDIT', 'DEBIT', 'PREPAID', 'DEPOSIT_ACCOUNT', 'MOBILE_MONEY_ACCOUNT', 'CASH'];
const kPaymentTypes = ['P2P', 'A2A', 'CBP'];
// "BDB: Business Disbursements, GDB: Government Disbursements, AMS: Acquirer Merchant Settlement,
// CBP: Credit Card Billpayment, B2B: Business-to-Business" [disb-yaml].
const kDisbursementTypes = ['BDB', 'GDB', 'AMS', 'CBP', 'B2B'];
// The account URI schemes each field takes besides pan: [p2p-yaml]; a disbursement's sender may be
// raw: ("If scheme chosen is raw, then funding_source must be other than CREDIT, DEBIT or PREPAID"),
// its recipient "pan, acct-token, and iban …, iban or fps … for the UK" [disb-yaml].
const kTransferSchemes = ['acct-ref', 'iban', 'acct-token', 'fps-acct'];
const kDisbursementSenderSchemes = ['acct-ref', 'iban', 'acct-token', 'raw'];
const kDisbursementRecipientSchemes = ['iban', 'acct-token', 'fps-acct'];
const kCardFunding = ['CREDIT', 'DEBIT', 'PREPAID'];
const kChannels = ['WEB', 'MOBILE', 'BANK', 'KIOSK'];

export function requestId() {
  return `rqst_${randomBytes(9).toString('base64url')}`;
}

export function serviceError(source, reasonCode, description, detailCode = null) {
  return {
    RequestId: requestId(),
    Source: source,
    ReasonCode: reasonCode,
    Description: description,
    Recoverable: 'false',
    Details: detailCode ? { Detail: [{ Name: 'ErrorDetailCode', Value: detailCode }] } : null,
  };
}

export function errorBody(items) {
  return { Errors: { Error: items } };
}

// 'pan:<digits>[;exp=YYYY-MM][;cvc=nnn]' -> {pan} or null; a URI of one of `schemes` -> {}; any
// other -> null.
export function parseAccountUri(uri, schemes = kTransferSchemes) {
  if (typeof uri !== 'string') return null;
  const [scheme, ...rest] = uri.split(':');
  if (schemes.includes(scheme)) return rest.join(':').length ? {} : null;
  if (scheme !== 'pan' || rest.length !== 1) return null;
  const [pan, ...attrs] = rest[0].split(';');
  if (!/^[0-9]{12,19}$/.test(pan) || !luhnValid(pan)) return null;
  for (const attr of attrs) {
    if (!/^exp=[0-9]{4}-(0[1-9]|1[0-2])$/.test(attr) && !/^cvc=[0-9]{3,4}$/.test(attr)) return null;
  }
  return { pan };
}

class Checker {
  constructor(object, prefix) {
    this.object = object;
    this.prefix = prefix;
    this.errors = [];
  }

  source(name) {
    return `${this.prefix}${name}`;
  }

  // A required or optional string matching `test` (a RegExp, a list or a function).
  field(name, test, { required = false, what = 'value' } = {}) {
    const value = this.object[name];
    if (value === undefined || value === null || value === '') {
      if (required) this.errors.push(serviceError(this.source(name), 'MISSING_REQUIRED_INPUT', `Missing ${name}`, kMissing));
      return undefined;
    }
    const ok = typeof value === 'string' &&
      (test instanceof RegExp ? test.test(value) : Array.isArray(test) ? test.includes(value) : test(value));
    if (!ok) this.errors.push(serviceError(this.source(name), 'INVALID_INPUT_VALUE', `Invalid ${what}`, kInvalid));
    return ok ? value : undefined;
  }

  // `addressRequired`: the fields an address needs when it is there ([disb-yaml]
  // Sender_Address_Request: line1, city, postal_code, country; Request_Recipient_Address: line1, city,
  // postal_code); null: the address is not checked.
  person(name, { required, addressRequired = null }) {
    const value = this.object[name];
    if (value === undefined) {
      if (required) this.errors.push(serviceError(this.source(name), 'MISSING_REQUIRED_INPUT', `Missing ${name}`, kMissing));
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.errors.push(serviceError(this.source(name), 'INVALID_INPUT_VALUE', `Invalid ${name}`, kInvalid));
      return;
    }
    const inner = new Checker(value, `${this.source(name)}.`);
    const name40 = (v) => v.length <= 40;
    inner.field('first_name', name40, { required: true, what: 'first name' });
    inner.field('middle_name', name40, { what: 'middle name' });
    inner.field('last_name', name40, { required: true, what: 'last name' });
    inner.field('nationality', kCountry, { what: 'country code' });
    inner.field('date_of_birth', /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/, { what: 'date' });
    if (addressRequired) inner.address('address', addressRequired);
    this.errors.push(...inner.errors);
  }

  // An optional address; `required` lists its fields that must be there when it is.
  address(name, required) {
    const value = this.object[name];
    if (value === undefined) return;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.errors.push(serviceError(this.source(name), 'INVALID_INPUT_VALUE', `Invalid ${name}`, kInvalid));
      return;
    }
    const inner = new Checker(value, `${this.source(name)}.`);
    const text = (max) => (v) => v.length <= max;
    inner.field('line1', text(50), { required: required.includes('line1'), what: 'address line' });
    inner.field('line2', text(50), { what: 'address line' });
    inner.field('city', text(25), { required: required.includes('city'), what: 'city' });
    inner.field('country_subdivision', /^[A-Z0-9]{2,3}$/, { what: 'country subdivision' });
    inner.field('postal_code', text(10), { required: required.includes('postal_code'), what: 'postal code' });
    inner.field('country', kCountry, { required: required.includes('country'), what: 'country code' });
    this.errors.push(...inner.errors);
  }
}

export function validateTransfer(body) {
  const wrapper = body?.payment_transfer;
  if (typeof wrapper !== 'object' || wrapper === null || Array.isArray(wrapper)) {
    return { errors: [serviceError('payment_transfer', 'MISSING_REQUIRED_INPUT', 'Missing payment_transfer', kMissing)] };
  }
  const c = new Checker(wrapper, '');
  c.field('transfer_reference', kReference, { required: true, what: 'transfer reference' });
  c.field('payment_type', kPaymentTypes, { what: 'payment type' });
  c.field('amount', kAmount, { required: true, what: 'amount' });
  c.field('currency', kCurrency, { required: true, what: 'currency' });
  c.field('funding_source', kFundingSources, { required: true, what: 'funding source' });
  c.field('payment_origination_country', kCountry, { what: 'country code' });
  c.field('channel', kChannels, { what: 'channel' });
  const accountUri = (v) => parseAccountUri(v) !== null;
  const sender = c.field('sender_account_uri', accountUri, { required: true, what: 'Account URI' });
  const recipient = c.field('recipient_account_uri', accountUri, { required: true, what: 'Account URI' });
  // "When providing a URI containing a PAN the payment_transfer.sender section is required."
  c.person('sender', { required: sender !== undefined && parseAccountUri(sender).pan !== undefined });
  c.person('recipient', { required: true });
  if (c.errors.length) return { errors: c.errors };
  return { transfer: wrapper, recipientPan: parseAccountUri(recipient).pan };
}

export function validateDisbursement(body) {
  const wrapper = body?.payment_disbursement;
  if (typeof wrapper !== 'object' || wrapper === null || Array.isArray(wrapper)) {
    return { errors: [serviceError('payment_disbursement', 'MISSING_REQUIRED_INPUT', 'Missing payment_disbursement', kMissing)] };
  }
  // [disb-yaml] PaymentDisbursement: required disbursement_reference, amount, currency,
  // recipient_account_uri; sender and recipient each need first_name and last_name when present.
  const c = new Checker(wrapper, '');
  c.field('disbursement_reference', kReference, { required: true, what: 'disbursement reference' });
  c.field('payment_type', kDisbursementTypes, { what: 'payment type' });
  c.field('amount', kAmount, { required: true, what: 'amount' });
  c.field('currency', kCurrency, { required: true, what: 'currency' });
  const funding = c.field('funding_source', kFundingSources, { what: 'funding source' });
  c.field('payment_origination_country', kCountry, { what: 'country code' });
  const sender = c.field('sender_account_uri', (v) => parseAccountUri(v, kDisbursementSenderSchemes) !== null,
                         { what: 'Account URI' });
  const recipient = c.field('recipient_account_uri', (v) => parseAccountUri(v, kDisbursementRecipientSchemes) !== null,
                            { required: true, what: 'Account URI' });
  if (sender?.startsWith('raw:') && kCardFunding.includes(funding ?? 'DEPOSIT_ACCOUNT')) {
    c.errors.push(serviceError('funding_source', 'INVALID_INPUT_VALUE',
                               'A raw sender_account_uri needs a funding source other than CREDIT, DEBIT or PREPAID', kInvalid));
  }
  c.person('sender', { required: sender !== undefined && parseAccountUri(sender, []) !== null,
                       addressRequired: ['line1', 'city', 'postal_code', 'country'] });
  c.person('recipient', { required: false, addressRequired: ['line1', 'city', 'postal_code'] });
  if (c.errors.length) return { errors: c.errors };
  return { transfer: wrapper, recipientPan: parseAccountUri(recipient, kDisbursementRecipientSchemes).pan };
}
