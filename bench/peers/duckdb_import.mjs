// Peer for the import benchmark: DuckDB loads the same file into a table of
// its own database file, with 2 threads (or THREADS), as a user of DuckDB would.
// usage: node duckdb_import.mjs FILE ndjson|csv DBFILE [THREADS]
// DUCKDB_SAMPLE_SIZE=-1 makes read_json take its schema from every line: a
// file whose first lines do not show every property (one ordered by time)
// needs it.
import { DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';

const [file, format, dbfile, threads = '2'] = process.argv.slice(2);
rmSync(dbfile, { force: true });
rmSync(dbfile + '.wal', { force: true });
const instance = await DuckDBInstance.create(dbfile, { threads: String(threads) });
const con = await instance.connect();
const sample = process.env.DUCKDB_SAMPLE_SIZE ? `, sample_size = ${Number(process.env.DUCKDB_SAMPLE_SIZE)}` : '';
const reader = format === 'csv' ? `read_csv('${file}')` : `read_json('${file}', format = 'newline_delimited'${sample})`;
await con.run(`CREATE TABLE events AS SELECT * FROM ${reader}`);
const rows = await con.runAndReadAll('SELECT count(*) AS n FROM events');
await con.run('CHECKPOINT');
console.log(`duckdb: ${rows.getRowObjects()[0].n} rows`);
