fn main() {
    // Open-file-description locks for our bundled SQLite (src/engine/sqlite/locks.rs):
    // Linux only, the one platform with OFD locks that we build for.
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/engine/sqlite/ofd_locks.c");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        cc::Build::new().file("src/engine/sqlite/ofd_locks.c").warnings(true).extra_warnings(true).compile("cp_ofd_locks");
    }
}
