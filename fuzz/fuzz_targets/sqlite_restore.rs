//! `tonus restore` of an SQLite backup (a `VACUUM INTO` copy): any bytes as the file. The
//! restore opens a private copy with the real store (migrations included) and reads every
//! patient back through the domain rules; a damaged or hand-edited file must end in an
//! error, never a panic, and never in records the rules would refuse.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tonus_store::Store;

struct Harness {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

static HARNESS: LazyLock<Harness> = LazyLock::new(|| Harness {
    rt: tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime"),
    dir: tempfile::tempdir().expect("temporary folder"),
});

fuzz_target!(|data: &[u8]| {
    // `tonus restore` takes the SQLite path only for files that start with the magic.
    if !data.starts_with(b"SQLite format 3\0") {
        return;
    }
    let h = &*HARNESS;
    let path = h.dir.path().join("restore.db");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::write(&path, data).expect("writing the copy");
    let now = tonus_fuzz::now();
    h.rt.block_on(async {
        let Ok(store) = Store::open_sqlite(&path).await else {
            return;
        };
        if let Ok(mut snapshots) = store.snapshot(None).await {
            // What the store hands back must pass the same checks as an archive import,
            // apart from "not in the future" (a backup may be restored later than it was made
            // on a machine whose clock was ahead). Handles are checked by the restore itself.
            snapshots.retain(|s| tonus_domain::patient::validate_handle(&s.handle).is_ok());
            let archive = tonus_interop::archive::Archive::new(snapshots, now);
            let json = archive.to_json().expect("writing the snapshot as an archive");
            let far = jiff::Timestamp::MAX;
            if let Err(e) = tonus_interop::archive::Archive::from_json(&json, far) {
                panic!("the SQLite restore accepted records an archive import refuses: {e}");
            }
        }
        store.close().await;
    });
});
