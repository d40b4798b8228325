//! Load generator for a running `kbridge listen`.
//!
//! ```sh
//! cargo run --release --example loadgen -- keygen /tmp/lg      # writes key.pk8 and key.pub
//! kbridge listen --tuxsuite-public-key /tmp/lg/key.pub --bind 127.0.0.1:8080 &
//! cargo run --release --example loadgen -- run http://127.0.0.1:8080 /tmp/lg/key.pk8 20000 64
//! ```
//!
//! `run` sends REQUESTS signed test callbacks, each for a distinct unknown
//! uid (so each is verified and committed to the inbox as unmatched), over
//! CONNECTIONS keep-alive connections, and prints the rate and latency.

#[allow(dead_code)]
#[path = "../benches/support/load.rs"]
mod load;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["keygen", dir] => {
            let (signer, pkcs8) = load::Signer::generate();
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(format!("{dir}/key.pk8"), pkcs8).unwrap();
            std::fs::write(format!("{dir}/key.pub"), signer.public_line() + "\n").unwrap();
            println!("wrote {dir}/key.pk8 and {dir}/key.pub");
        }
        ["run", url, key, rest @ ..] => {
            let requests: usize = rest.first().and_then(|n| n.parse().ok()).unwrap_or(20_000);
            let connections: usize = rest.get(1).and_then(|n| n.parse().ok()).unwrap_or(64);
            let signer = load::Signer::from_pkcs8(&std::fs::read(key).unwrap());
            let reqs = load::unmatched_callbacks(&signer, requests);
            load::run(url.trim_end_matches('/'), reqs, connections)
                .print(&format!("{connections} connections"));
        }
        _ => {
            eprintln!(
                "usage: loadgen keygen DIR | loadgen run URL KEY.pk8 [REQUESTS] [CONNECTIONS]"
            );
            std::process::exit(2);
        }
    }
}
