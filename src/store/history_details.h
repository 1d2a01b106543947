#pragma once
// The `details` column of a wallet's history: HistoryDetails (store.h) as one JSON object whose
// single member names the kind. Its member names are those version 1 of the schema stored (the
// history first rendered for QIWI's Reports API), kept as the storage format so that no row has
// to be rewritten; they are a format of this column, not of any API:
//   kProvider  {"providerTxnInfo":{"providerId":"…","providerDisplayName":"…"}}
//   kTransfer  {"transferBetweenClientsTxnInfo":{"anotherClientId":"…","anotherAccountId":"…"}}
//   kCard      {"cardTxnInfo":{"cardTokenId":"…","maskedPan":"…","merchantType":"…",
//               "merchantId":"…","merchantName":"…","retrievalReferenceNumber":"…"
//               [,"accountBalance":{"value":12.34,"currency":"RUB"}]}}
//   kNone      "" (an empty column)
#include <string>
#include <string_view>

#include "store/store.h"

namespace payoutd::store {

std::string encode_history_details(const HistoryDetails& details);
// Throws StorageError (rows.h) on a column this format does not describe.
HistoryDetails decode_history_details(std::string_view text);

}  // namespace payoutd::store
