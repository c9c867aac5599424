//! Rendering a page of rooms (docs/behaviour.md §2): stored summaries spliced with their URLs, and the
//! `meta` with its signed next-page token, as `GET /v1/Video/Rooms` does after the query.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use roomlog_core::page::{Page, PageRequest, TokenKey};
use roomlog_core::query::parse_room_list;
use roomlog_core::{Row, StoredJson};
use roomlog_server::http::insights::render_room;
use roomlog_server::http::listing::{render, ListUrl, Scope};

/// A stored room summary of the usual size (about 730 bytes).
fn summary(i: usize) -> StoredJson {
    StoredJson(format!(
        r#"{{"account_sid":"AC0123456789abcdef0123456789abcdef","room_sid":"RM{i:032x}","room_name":"standup-{i:04}","create_time":"2025-10-09T19:35:56Z","end_time":"2025-10-09T20:52:26Z","room_type":"group","room_status":"completed","status_callback":"https://example.com/video/status","status_callback_method":"POST","created_method":"sdk","end_reason":null,"max_participants":50,"unique_participants":5,"unique_participant_identities":5,"concurrent_participants":5,"max_concurrent_participants":null,"codecs":["VP8","opus"],"media_region":"sg1","duration_sec":4589,"total_participant_duration_sec":17114,"total_recording_duration_sec":0,"processing_state":"complete","recording_enabled":false,"edge_location":null}}"#
    ))
}

fn benches(c: &mut Criterion) {
    let tokens = TokenKey::new(b"0123456789abcdef0123456789abcdef".to_vec());
    let (filter, paging) = parse_room_list([("RoomType", "group"), ("Codec", "VP8")]).expect("valid");
    let scope = Scope(format!("AC0123456789abcdef0123456789abcdef|rooms|{}", filter.canonical()));
    let base = "http://127.0.0.1:8080";
    let mut group = c.benchmark_group("render_rooms_page");
    for size in [50u32, 1000] {
        let rows: Vec<Row> = (0..=size as usize)
            .map(|i| Row { time_secs: 1_760_000_000 - i as i64, sid: format!("RM{i:032x}"), json: summary(i) })
            .collect();
        let request = PageRequest { size, page: 0, cursor: None, offset: 0, cutoff: None };
        let page = Page::assemble(rows, &request);
        group.throughput(Throughput::Elements(u64::from(size)));
        group.bench_with_input(BenchmarkId::from_parameter(size), &page, |b, page| {
            b.iter(|| {
                let url = ListUrl { base, path: "/v1/Video/Rooms", filters: filter.query_pairs() };
                render("rooms", &url, &request, &paging, page, (&tokens, &scope), |out, row| {
                    render_room(out, base, &row.sid, &row.json)
                })
            })
        });
    }
    group.finish();
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
