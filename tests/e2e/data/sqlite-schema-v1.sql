PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES('provisioned','1');
INSERT INTO meta VALUES('schema_version','1');
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, kind INTEGER NOT NULL, code TEXT NOT NULL, owner TEXT NOT NULL,
  currency TEXT NOT NULL, floor INTEGER NOT NULL, status INTEGER NOT NULL,
  credit_delay_ms INTEGER NOT NULL,
  debits_pending INTEGER NOT NULL, debits_posted INTEGER NOT NULL,
  credits_pending INTEGER NOT NULL, credits_posted INTEGER NOT NULL,
  history_seq INTEGER NOT NULL, created_ms INTEGER NOT NULL,
  UNIQUE (tenant, kind, code));
INSERT INTO accounts VALUES(1,'qiwi:best-partner',1,'bonus-funder','Bonus programme','RUB',1,0,0,200,12750,0,100000000000,0,1796104260947);
INSERT INTO accounts VALUES(2,'qiwi:best-partner',0,'external:RUB','external','RUB',0,0,0,0,100000100000,0,0,0,1796104260948);
INSERT INTO accounts VALUES(3,'qiwi:best-partner',1,'cashback-funder','Cashback programme','RUB',1,0,0,0,0,0,100000,0,1796104260949);
INSERT INTO accounts VALUES(4,'qiwi:best-partner',2,'bwfefjwtfl3624831470','sjrpngawef8770553957','RUB',1,0,0,0,825,0,12050,4,1796104260952);
INSERT INTO accounts VALUES(5,'qiwi:best-partner',2,'jctfeudxbv9350100550','fciscvrywl9511144790','RUB',1,0,0,0,0,0,525,2,1796104260953);
INSERT INTO accounts VALUES(6,'qiwi:best-partner',2,'colwlksyqr4407625231','dvqpsshreq7474202590','RUB',1,0,0,0,0,0,0,0,1796104260953);
INSERT INTO accounts VALUES(7,'qiwi:best-partner',2,'xxxxxxzsp7009773700','mxmyrdxxxx8585680090','RUB',1,0,0,0,0,0,0,0,1796104260954);
INSERT INTO accounts VALUES(8,'qiwi:best-partner',2,'dvdsaqznqh8727979115','mqyixkhjsr0446961069','RUB',1,0,0,0,0,0,0,0,1796104260955);
INSERT INTO accounts VALUES(9,'qiwi:best-partner',2,'sandbox-processing-account','sandbox-processing-client','RUB',1,0,2000,0,0,200,700,2,1796104260956);
INSERT INTO accounts VALUES(10,'qiwi:best-partner',2,'sandbox-blocked-account','sandbox-blocked-client','RUB',1,1,0,0,0,0,0,1,1796104260957);
INSERT INTO accounts VALUES(11,'qiwi:best-partner',0,'providers:RUB','providers','RUB',0,0,0,0,0,0,300,0,1796104262531);
CREATE TABLE transfers (
  id INTEGER PRIMARY KEY,
  debit_account_id INTEGER NOT NULL REFERENCES accounts (id),
  credit_account_id INTEGER NOT NULL REFERENCES accounts (id),
  amount INTEGER NOT NULL CHECK (amount > 0), currency TEXT NOT NULL, kind INTEGER NOT NULL,
  pending_id INTEGER REFERENCES transfers (id), timestamp_ms INTEGER NOT NULL,
  reference TEXT NOT NULL);
INSERT INTO transfers VALUES(1,2,1,100000000000,'RUB',0,NULL,1796104260948,'1:qiwi:best-partner:initial-balance:bonus-funder');
INSERT INTO transfers VALUES(2,2,3,100000,'RUB',0,NULL,1796104260951,'1:qiwi:best-partner:initial-balance:cashback-funder');
INSERT INTO transfers VALUES(3,1,4,10050,'RUB',0,NULL,1796104262448,'0:qiwi:best-partner:v1-success');
INSERT INTO transfers VALUES(4,1,4,2000,'RUB',0,NULL,1796104262465,'0:qiwi:best-partner:v1-second');
INSERT INTO transfers VALUES(5,1,9,700,'RUB',1,NULL,1796104262506,'0:qiwi:best-partner:v1-processing');
INSERT INTO transfers VALUES(6,4,5,525,'RUB',0,NULL,1796104262521,'2:qiwi:best-partner:v1-transfer');
INSERT INTO transfers VALUES(7,4,11,300,'RUB',0,NULL,1796104262531,'2:qiwi:best-partner:v1-payment');
INSERT INTO transfers VALUES(8,1,9,700,'RUB',2,5,1796104264507,'0:qiwi:best-partner:v1-processing');
INSERT INTO transfers VALUES(9,1,9,200,'RUB',1,NULL,1796104272882,'0:qiwi:best-partner:v1-left-processing');
CREATE TABLE payouts (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL, kind INTEGER NOT NULL, partner_id TEXT NOT NULL,
  fingerprint TEXT NOT NULL, status INTEGER NOT NULL, decline_code TEXT NOT NULL,
  source_account_id INTEGER NOT NULL, destination_account_id INTEGER NOT NULL,
  amount INTEGER NOT NULL, currency TEXT NOT NULL, pending_transfer_id INTEGER NOT NULL,
  source_ref TEXT NOT NULL, destination_ref TEXT NOT NULL, history_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, due_ms INTEGER NOT NULL,
  history_account_id INTEGER NOT NULL, history_seq INTEGER NOT NULL,
  UNIQUE (tenant, kind, partner_id));
INSERT INTO payouts VALUES(1,'qiwi:best-partner',1,'initial-balance:bonus-funder','bonus-funder100000000000RUB',1,'',2,1,100000000000,'RUB',0,'external:RUB','bonus-funder','',1796104260948,1796104260948,0,0,0);
INSERT INTO payouts VALUES(2,'qiwi:best-partner',1,'initial-balance:cashback-funder','cashback-funder100000RUB',1,'',2,3,100000,'RUB',0,'external:RUB','cashback-funder','',1796104260951,1796104260951,0,0,0);
INSERT INTO payouts VALUES(3,'qiwi:best-partner',0,'v1-success','bonus-fundersjrpngawef877055395710050RUB',1,'',1,4,10050,'RUB',0,'bonus-funder','sjrpngawef8770553957','01a23028-1330-86b9-8000-000400000001',1796104262448,1796104262448,0,4,1);
INSERT INTO payouts VALUES(4,'qiwi:best-partner',0,'v1-second','bonus-fundersjrpngawef87705539572000RUB',1,'',1,4,2000,'RUB',0,'bonus-funder','sjrpngawef8770553957','01a23028-1341-83a5-8000-000400000002',1796104262465,1796104262465,0,4,2);
INSERT INTO payouts VALUES(5,'qiwi:best-partner',0,'v1-declined','bonus-fundersandbox-blocked-client1000RUB',2,'CLIENT_ACCOUNT_BLOCKED',1,10,1000,'RUB',0,'bonus-funder','sandbox-blocked-client','01a23028-1352-849e-8000-000a00000001',1796104262482,1796104262482,0,10,1);
INSERT INTO payouts VALUES(6,'qiwi:best-partner',0,'v1-poor','cashback-funderfciscvrywl9511144790100001RUB',2,'FUNDER_INSUFFICIENT_FUNDS',3,5,100001,'RUB',0,'cashback-funder','fciscvrywl9511144790','01a23028-135f-8b82-8000-000500000001',1796104262495,1796104262495,0,5,1);
INSERT INTO payouts VALUES(7,'qiwi:best-partner',0,'v1-processing','bonus-fundersandbox-processing-client700RUB',1,'',1,9,700,'RUB',5,'bonus-funder','sandbox-processing-client','01a23028-136a-8f66-8000-000900000001',1796104262506,1796104264507,1796104264506,9,1);
INSERT INTO payouts VALUES(8,'qiwi:best-partner',2,'v1-transfer','4sjrpngawef8770553957fciscvrywl9511144790525RUB0S',1,'',4,5,525,'RUB',0,'','sjrpngawef8770553957','01a23028-1379-85f8-8000-000400000003',1796104262521,1796104262521,0,0,0);
INSERT INTO payouts VALUES(9,'qiwi:best-partner',2,'v1-payment','1sjrpngawef8770553957mtsMTS300RUB0S',1,'',4,11,300,'RUB',0,'','sjrpngawef8770553957','01a23028-1383-8609-8000-000400000004',1796104262531,1796104262531,0,0,0);
INSERT INTO payouts VALUES(10,'qiwi:best-partner',0,'v1-left-processing','bonus-fundersandbox-processing-client200RUB',0,'',1,9,200,'RUB',9,'bonus-funder','sandbox-processing-client','01a23028-3bf2-877d-8000-000900000002',1796104272882,1796104272882,1796104274882,9,2);
CREATE TABLE history (
  account_id INTEGER NOT NULL, seq INTEGER NOT NULL, txn_history_id TEXT NOT NULL,
  domain INTEGER NOT NULL, type_id INTEGER NOT NULL, status INTEGER NOT NULL,
  impact INTEGER NOT NULL, domain_txn_id TEXT NOT NULL, amount INTEGER NOT NULL,
  commission INTEGER NOT NULL, currency TEXT NOT NULL, created_ms INTEGER NOT NULL,
  error_code TEXT NOT NULL, details TEXT NOT NULL,
  PRIMARY KEY (account_id, seq)) WITHOUT ROWID;
INSERT INTO history VALUES(4,3,'01a23028-1379-85f8-8000-000400000003',0,4,1,1,'v1-transfer',525,0,'RUB',1796104262521,'','{"transferBetweenClientsTxnInfo":{"anotherClientId":"fciscvrywl9511144790","anotherAccountId":"jctfeudxbv9350100550"}}');
INSERT INTO history VALUES(4,4,'01a23028-1383-8609-8000-000400000004',0,1,1,1,'v1-payment',300,0,'RUB',1796104262531,'','{"providerTxnInfo":{"providerId":"mts","providerDisplayName":"MTS"}}');
INSERT INTO history VALUES(5,2,'01a23028-1379-8b1c-8000-000500000002',0,4,1,0,'v1-transfer',525,0,'RUB',1796104262521,'','{"transferBetweenClientsTxnInfo":{"anotherClientId":"sjrpngawef8770553957","anotherAccountId":"bwfefjwtfl3624831470"}}');
CREATE INDEX accounts_by_owner ON accounts (tenant, kind, owner);
CREATE UNIQUE INDEX transfers_resolution ON transfers (pending_id)
  WHERE pending_id IS NOT NULL;
CREATE INDEX payouts_processing ON payouts (due_ms) WHERE status = 0;
CREATE UNIQUE INDEX payouts_history ON payouts (history_account_id, history_seq)
  WHERE history_seq > 0;
COMMIT;
