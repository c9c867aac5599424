// sqlx::migrate! embeds the migrations folder: rebuild when a file is added.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
