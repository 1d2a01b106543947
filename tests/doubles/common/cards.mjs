// Card numbers as the doubles see them: the test-card table that scripts a scenario per card,
// the Luhn check, and the masking every record and answer uses.
//   loadCards(json, parseScenario) -> {pan: scenario}; the file is {"<pan>": "<token>"} with
//     "// ..." keys as comments; throws on a bad card number or a token parseScenario rejects (null)
//   luhnValid(digits) -> bool
//   maskPan(pan) -> '************4444' (all but the last four digits starred)
export function loadCards(json, parseScenario) {
  const cards = {};
  for (const [pan, token] of Object.entries(JSON.parse(json))) {
    if (pan.startsWith('//')) continue;
    if (!/^[0-9]{12,19}$/.test(pan)) throw new Error(`cards: ${pan} is not a card number`);
    const scenario = parseScenario(token);
    if (!scenario) throw new Error(`cards: ${pan}: unknown scenario ${token}`);
    cards[pan] = scenario;
  }
  return cards;
}

export function luhnValid(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

export function maskPan(pan) {
  return `${'*'.repeat(Math.max(0, pan.length - 4))}${pan.slice(-4)}`;
}
