// As duckdb_import.mjs, with read_json's sample_size = -1 (the schema from
// every line): a file whose first lines do not show every property (one
// ordered by time) needs it. Peer for the import benchmark: DuckDB loads the same file into a table of
// its own database file, with 2 threads (or THREADS), as a user of DuckDB would.
// usage: node duckdb_import.mjs FILE ndjson|csv DBFILE [THREADS]
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';

const [file, format, dbfile, threads = '2'] = process.argv.slice(2);
rmSync(dbfile, { force: true });
rmSync(dbfile + '.wal', { force: true });
const instance = await DuckDBInstance.create(dbfile, { threads: String(threads) });
const con = await instance.connect();
const reader = format === 'csv' ? `read_csv('${file}')` : `read_json('${file}', format = 'newline_delimited', sample_size = -1)`;
await con.run(`CREATE TABLE events AS SELECT * FROM ${reader}`);
const rows = await con.runAndReadAll('SELECT count(*) AS n FROM events');
await con.run('CHECKPOINT');
console.log(`duckdb: ${rows.getRowObjects()[0].n} rows`);
