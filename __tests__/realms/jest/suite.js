// What each Jest file runs: the realm assertions on our `Database` and on better-sqlite3,
// each file with the package and its handles loaded afresh in the file's own realm.
const BetterSqlite3 = require("better-sqlite3");
const pkg = require("../../..");
const { defineRealmSuite } = require("../assertions");

function jestRealmSuite() {
  defineRealmSuite({ describe, it, expect }, pkg, [
    { name: "our Database", open: () => new pkg.Database(":memory:") },
    { name: "a better-sqlite3 handle", open: () => new BetterSqlite3(":memory:") },
  ]);
}

module.exports = { jestRealmSuite };
