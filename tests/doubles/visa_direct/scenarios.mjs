// What the simulated VisaNet does with a push funds transaction, chosen by the recipient's card in
// a test-card table (Visa publishes no sandbox cards that trigger declines or timeouts, so the
// table is ours; README.md in tests/doubles gives the source of each answer).
//   parseScenario(token) -> {kind, actionCode?, seconds?, polls?} or null
//   scenarioOf(pan, cards) -> the card's scenario, else approve
// Tokens:
//   APPROVE               actionCode 00 with an approval code
//   DCL<cc>               a 200 with actionCode cc (a decline; cc from kActionCodes)
//   P202N<n>[D<cc>]       202 with a status identifier; the status GET answers 202 n more times,
//                         then 200 with actionCode 00 (or cc). The Transaction Query says IN_PROGRESS
//   SLOW<s>               completed (approved) at once; the answer leaves s seconds later, or a 202
//                         at the client's X-Transaction-Timeout-MS (default 30 s) if that comes first
//   RESETBEFORE           the connection is reset, nothing recorded (first POST of the transaction)
//   RESETAFTER            approved and recorded, then the connection is reset (first POST)
//   FAIL500               recorded FAILED (received and rejected by Visa), answered 500

// Visa action codes (ISO 8583 field 39 as VisaNet uses it) that decline an OCT, by class.
export const kActionCodes = {
  '01': 'Refer to card issuer',
  '02': 'Refer to card issuer, special condition',
  '03': 'Invalid merchant',
  '04': 'Pick up card (no fraud)',
  '05': 'Do not honor',
  '06': 'Error',
  '07': 'Pick up card, special condition (fraud account)',
  '12': 'Invalid transaction',
  '13': 'Invalid amount or currency conversion field overflow',
  '14': 'Invalid account number (no such number)',
  '15': 'No such issuer',
  '19': 'Re-enter transaction',
  '21': 'No action taken',
  '25': 'Unable to locate record in file',
  '28': 'File temporarily not available for update or inquiry',
  '39': 'No credit account',
  '41': 'Lost card, pick up (fraud account)',
  '43': 'Stolen card, pick up (fraud account)',
  '51': 'Not sufficient funds',
  '52': 'No checking account',
  '53': 'No savings account',
  '54': 'Expired card or expiration date is missing',
  '57': 'Transaction not permitted to cardholder',
  '58': 'Transaction not allowed at terminal',
  '59': 'Suspected fraud',
  '61': 'Exceeds approval amount limit',
  '62': 'Restricted card',
  '63': 'Security violation',
  '65': 'Exceeds withdrawal frequency limit',
  '78': 'Blocked, first used or special condition',
  '91': 'Issuer unavailable or switch inoperative',
  '92': 'Destination cannot be found for routing',
  '93': 'Transaction cannot be completed; violation of law',
  '94': 'Duplicate transmission',
  '96': 'System malfunction',
};
const kDelayMaxSeconds = 3600;
const kPollsMax = 100;

function actionCodeOf(code) {
  if (code === undefined) return '00';
  return kActionCodes[code] ? code : null;
}

export function parseScenario(token) {
  if (token === 'APPROVE') return { kind: 'approve', actionCode: '00' };
  if (token === 'RESETBEFORE') return { kind: 'reset-before', actionCode: '00' };
  if (token === 'RESETAFTER') return { kind: 'reset-after', actionCode: '00' };
  if (token === 'FAIL500') return { kind: 'fail' };
  let m = token.match(/^DCL([0-9A-Z]{2})$/);
  if (m) return kActionCodes[m[1]] ? { kind: 'decline', actionCode: m[1] } : null;
  m = token.match(/^P202N([0-9]{1,3})(?:D([0-9A-Z]{2}))?$/);
  if (m) {
    const actionCode = actionCodeOf(m[2]);
    const polls = Number(m[1]);
    return actionCode && polls <= kPollsMax ? { kind: 'pending', polls, actionCode } : null;
  }
  m = token.match(/^SLOW([0-9]{1,4})$/);
  if (m && Number(m[1]) <= kDelayMaxSeconds) return { kind: 'slow', seconds: Number(m[1]), actionCode: '00' };
  return null;
}

export function scenarioOf(pan, cards) {
  return cards[pan] ?? { kind: 'approve', actionCode: '00' };
}
