// What the simulated network does with a transfer, chosen as Mastercard's sandbox chooses it: by a
// prefix of transfer_reference, else by the recipient's card (a test-card table), else approve.
// README.md (tests/doubles) says which scenario follows which published source.
//   scenarioOf(reference, pan, cards) -> {kind, code?, seconds?, final?}
//   parseScenario(token) -> a scenario, or null when the token is not one (for the card table)
// Scenario tokens, the same for a reference prefix (token + "_") and a card table entry:
//   HAPPYPATH | APPROVE      approved
//   DCL<nn>                  declined with network code nn
//   UNK<s> | UNK<s>D<nn>     UNKNOWN now; after s seconds APPROVED (or DECLINED nn)
//   PND<s> | PND<s>D<nn>     PENDING now; the same
//   SLOW<s>                  approved and recorded at once; the answer leaves s seconds later
//   RESETBEFORE              the connection is reset, nothing recorded (first POST of a reference)
//   RESETAFTER               approved and recorded, then the connection is reset (first POST)

// ISO 8583 DE 39 codes Mastercard Send passes through as network_status_code, with the
// status_reason of the 2019 Send spec's Transaction definition that each falls under.
export const kDeclineCodes = {
  '05': ['Do not honor', 'DECLINED'],
  '13': ['Invalid amount', 'DECLINED'],
  '14': ['Invalid card number', 'DECLINED'],
  '43': ['Stolen card, pick up', 'FRAUD'],
  '51': ['Insufficient funds/over credit limit', 'DECLINED'],
  '54': ['Expired card', 'CARD_EXPIRED'],
  '57': ['Transaction not permitted to issuer/cardholder', 'DECLINED'],
  '61': ['Exceeds withdrawal amount limit', 'LIMIT_EXCEEDED'],
  '62': ['Restricted card', 'DECLINED'],
  '65': ['Exceeds withdrawal count limit', 'LIMIT_EXCEEDED'],
  '91': ['Authorization platform or issuer system inoperative', 'DECLINED'],
  '96': ['System error', 'DECLINED'],
};
const kDelayMaxSeconds = 3600;

function finalOf(code) {
  if (code === undefined) return { status: 'APPROVED' };
  return kDeclineCodes[code] ? { status: 'DECLINED', code } : null;
}

// A token as above into a scenario, or null when it is not one.
export function parseScenario(token) {
  if (token === 'HAPPYPATH' || token === 'APPROVE') return { kind: 'approve' };
  if (token === 'RESETBEFORE') return { kind: 'reset-before' };
  if (token === 'RESETAFTER') return { kind: 'reset-after' };
  let m = token.match(/^DCL([0-9]{2})$/);
  if (m) return kDeclineCodes[m[1]] ? { kind: 'decline', code: m[1] } : null;
  m = token.match(/^(UNK|PND)([0-9]{1,4})(?:D([0-9]{2}))?$/);
  if (m) {
    const final = finalOf(m[3]);
    const seconds = Number(m[2]);
    if (!final || seconds > kDelayMaxSeconds) return null;
    return { kind: m[1] === 'UNK' ? 'unknown' : 'pending', seconds, final };
  }
  m = token.match(/^SLOW([0-9]{1,4})$/);
  if (m && Number(m[1]) <= kDelayMaxSeconds) return { kind: 'slow', seconds: Number(m[1]) };
  return null;
}

export function scenarioOf(reference, pan, cards) {
  const prefix = reference.split('_')[0];
  if (reference.includes('_')) {
    const byReference = parseScenario(prefix);
    if (byReference) return byReference;
  }
  if (pan && cards[pan]) return cards[pan];
  return { kind: 'approve' };
}
