//! JSON backup archive (`tonus restore FILE.json`): any bytes as the file. Reading must
//! accept a valid archive or name what is wrong, never panic; an accepted archive written
//! out again must read back identical.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonus_interop::archive::Archive;

fuzz_target!(|data: &[u8]| {
    // `tonus restore` reads the file as UTF-8 text first.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = tonus_fuzz::now();
    let Ok(archive) = Archive::from_json(text, now) else {
        return;
    };
    let json = archive.to_json().expect("writing an accepted archive");
    let again = Archive::from_json(&json, now).expect("reading our own archive");
    assert_eq!(again, archive, "an archive changed on a round trip");
});
