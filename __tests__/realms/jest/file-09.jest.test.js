// One of twelve Jest files: each runs in a realm of its own (a VM context of Jest's).
const { jestRealmSuite } = require("./suite");

jestRealmSuite();
