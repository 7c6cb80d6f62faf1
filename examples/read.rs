//! How shiftline reads a worker's text, phrase by phrase: `cargo run --example read -- en "brb 10"`.

use shiftline::core::domain::Locale;

fn main() {
    let mut args = std::env::args().skip(1);
    let language = args
        .next()
        .and_then(|l| Locale::parse(&l).ok())
        .expect("usage: read <en|es> TEXT...");
    for text in args {
        println!(
            "{text:?}\n{}",
            shiftline::core::intake::understand::explain(&text, language, &Default::default())
        );
    }
}
