//! `roomlog rooms list|get` and `roomlog participants list|get|search`: the four Insights
//! resources (docs/behaviour.md §1) and one identity's sessions across rooms (§7.2), read from
//! the API and printed as table, JSON or CSV; `roomlog usage` (§7.1) likewise.

use clap::{Args, Subcommand};
use roomlog_core::{IdentityFilter, ParticipantSid, RoomSid, RoomType};
use serde_json::value::RawValue;

use roomlog_client::fields::Kind;
use roomlog_client::output::{ignore_broken_pipe, write_one, ListWriter};
use roomlog_client::InsightsClient;

use crate::client_args::{DateArg, FilterArgs, OutputArgs, PagingArgs, ServerArgs};

#[derive(Subcommand, Debug)]
pub enum RoomsCommand {
    /// List rooms, newest first (without a date filter the API shows only recent rooms).
    List(ListRoomsArgs),
    /// Show one room.
    Get {
        room_sid: RoomSid,
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Args, Debug)]
pub struct ListRoomsArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub paging: PagingArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Subcommand, Debug)]
pub enum ParticipantsCommand {
    /// List a room's participants in join order.
    List {
        room_sid: RoomSid,
        #[command(flatten)]
        paging: PagingArgs,
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// One identity's sessions in every room, newest first (docs/behaviour.md §7.2).
    Search {
        /// The participant identity, exactly (case matters).
        #[arg(long)]
        identity: String,
        /// Sessions joined at or after this date, or this long ago (`7d`, `12h`).
        #[arg(long, value_name = "DATE")]
        created_after: Option<DateArg>,
        /// Sessions joined before this date, or before this long ago.
        #[arg(long, value_name = "DATE")]
        created_before: Option<DateArg>,
        #[command(flatten)]
        paging: PagingArgs,
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Show one participant of a room.
    Get {
        room_sid: RoomSid,
        participant_sid: ParticipantSid,
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

pub async fn rooms(command: RoomsCommand) -> anyhow::Result<()> {
    match command {
        RoomsCommand::List(args) => {
            let client = args.server.client()?;
            let mut query: Vec<(&str, String)> = args.filters.filter().query_pairs();
            query.push(("PageSize", args.paging.page_size().to_string()));
            let url = client.url("/v1/Video/Rooms", &query);
            list(&client, url, args.paging.limit, Kind::Room, &args.output).await
        }
        RoomsCommand::Get { room_sid, server, output } => {
            let client = server.client()?;
            show(&client, &format!("/v1/Video/Rooms/{room_sid}"), Kind::Room, &output).await
        }
    }
}

pub async fn participants(command: ParticipantsCommand) -> anyhow::Result<()> {
    match command {
        ParticipantsCommand::List { room_sid, paging, server, output } => {
            let client = server.client()?;
            let query = [("PageSize", paging.page_size().to_string())];
            let url = client.url(&format!("/v1/Video/Rooms/{room_sid}/Participants"), &query);
            list(&client, url, paging.limit, Kind::Participant, &output).await
        }
        ParticipantsCommand::Search { identity, created_after, created_before, paging, server, output } => {
            let client = server.client()?;
            let filter = IdentityFilter {
                identity,
                created_after: created_after.map(|d| d.0),
                created_before: created_before.map(|d| d.0),
            };
            let mut query = filter.query_pairs();
            query.push(("PageSize", paging.page_size().to_string()));
            let url = client.url("/v1/Video/Participants", &query);
            list(&client, url, paging.limit, Kind::Participant, &output).await
        }
        ParticipantsCommand::Get { room_sid, participant_sid, server, output } => {
            let client = server.client()?;
            let path = format!("/v1/Video/Rooms/{room_sid}/Participants/{participant_sid}");
            show(&client, &path, Kind::Participant, &output).await
        }
    }
}

/// `roomlog usage`: the usage answer (docs/behaviour.md §7.1), one row per day or month.
#[derive(Args, Debug)]
pub struct UsageArgs {
    /// First day (YYYY-MM-DD, UTC); default: 29 days before the end date.
    #[arg(long, value_name = "DATE")]
    pub start_date: Option<String>,
    /// Last day (YYYY-MM-DD, UTC); default: today.
    #[arg(long, value_name = "DATE")]
    pub end_date: Option<String>,
    /// `day` or `month`.
    #[arg(long, default_value = "day", value_parser = ["day", "month"])]
    pub granularity: String,
    /// Only rooms of this type (repeatable: any of them).
    #[arg(long, value_name = "TYPE")]
    pub room_type: Vec<RoomType>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn usage(args: UsageArgs) -> anyhow::Result<()> {
    let client = args.server.client()?;
    let mut query: Vec<(&str, String)> = Vec::new();
    query.extend(args.start_date.map(|d| ("StartDate", d)));
    query.extend(args.end_date.map(|d| ("EndDate", d)));
    query.push(("Granularity", args.granularity));
    query.extend(args.room_type.iter().map(|t| ("RoomType", t.as_str().to_owned())));
    let answer: serde_json::Value = client.get(&client.url("/v1/Video/Usage", &query)).await?;
    let rows = answer["usage"].as_array().cloned().unwrap_or_default();
    let stdout = std::io::BufWriter::new(std::io::stdout());
    let mut writer = ListWriter::new(args.output.format(), Kind::Usage, stdout, false)?;
    let written = rows
        .iter()
        .try_for_each(|row| writer.item(&serde_json::value::to_raw_value(row)?))
        .and_then(|()| writer.finish());
    Ok(ignore_broken_pipe(written)?)
}

/// Streams every item of a list (following `next_page_url`) to stdout; a closed pipe stops it.
async fn list(
    client: &InsightsClient,
    url: String,
    limit: usize,
    kind: Kind,
    output: &OutputArgs,
) -> anyhow::Result<()> {
    let stdout = std::io::BufWriter::new(std::io::stdout());
    let mut writer = ListWriter::new(output.format(), kind, stdout, true)?;
    match client.for_each_item(url, limit, |raw| Ok(writer.item(&raw)?)).await {
        Err(error) if crate::is_broken_pipe(&error) => Ok(()),
        Err(error) => Err(error),
        Ok(_) => Ok(ignore_broken_pipe(writer.finish())?),
    }
}

async fn show(client: &InsightsClient, path: &str, kind: Kind, output: &OutputArgs) -> anyhow::Result<()> {
    let raw: Box<RawValue> = client.get(&client.url(path, &[])).await?;
    ignore_broken_pipe(write_one(output.format(), kind, &raw, std::io::stdout()))?;
    Ok(())
}
