//! `civicgrid dlq`: a queue's dead letters, for the operator who fixes the
//! cause and then replays or discards them. The work is in
//! `civicgrid_messaging::dead_letters`; this is arguments and printing.

use std::process::ExitCode;

use civicgrid_messaging::dead_letters::{DeadLetter, DeadLetters, DecodedPayload, Selection};
use clap::{Args, Subcommand, ValueEnum};
use uuid::Uuid;

/// What `dlq` does.
#[derive(Subcommand)]
pub enum DlqCommand {
    /// List every dead letter of a queue, oldest first, and leave them in place.
    List {
        #[command(flatten)]
        queue: QueueArg,
        /// `table` for people, `json` for scripts.
        #[arg(long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Print one dead letter as JSON, its payload decoded by its message type
    /// (hex, with a note, when the type is unknown).
    Show {
        #[command(flatten)]
        queue: QueueArg,
        /// The event id (the message's AMQP message_id).
        #[arg(long)]
        event_id: Uuid,
    },
    /// Republish dead letters to the queue they died in (with a publisher
    /// confirm) and remove each from the dead-letter queue once confirmed.
    /// The consumer applies an event once however often it is replayed.
    Replay {
        #[command(flatten)]
        queue: QueueArg,
        #[command(flatten)]
        selection: SelectionArgs,
    },
    /// Remove dead letters for good. Refuses without --yes.
    Discard {
        #[command(flatten)]
        queue: QueueArg,
        #[command(flatten)]
        selection: SelectionArgs,
        /// Confirm that the messages are to be deleted.
        #[arg(long)]
        yes: bool,
    },
}

/// The queue whose dead letters are meant.
#[derive(Args)]
pub struct QueueArg {
    /// The consumer's queue, e.g. `civicgrid.membership.grid-cells`; its dead
    /// letters wait in `<queue>.dlq` (`make status` lists them).
    #[arg(long)]
    queue: String,
}

/// One event or all of them.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct SelectionArgs {
    /// Only the dead letters of this event id.
    #[arg(long)]
    event_id: Option<Uuid>,
    /// Every dead letter of the queue.
    #[arg(long)]
    all: bool,
}

impl SelectionArgs {
    fn selection(&self) -> Selection {
        match self.event_id {
            Some(event_id) => Selection::Event(event_id),
            None => Selection::All,
        }
    }

    fn describe(&self, queue: &str) -> String {
        match self.event_id {
            Some(event_id) => format!("the dead letters of event {event_id} in {queue}.dlq"),
            None => format!("every dead letter in {queue}.dlq"),
        }
    }
}

/// How `list` prints.
#[derive(Clone, Copy, ValueEnum)]
pub enum Output {
    /// Aligned columns.
    Table,
    /// A JSON array.
    Json,
}

/// Runs `command` against the broker at `amqp_url`.
pub async fn run(amqp_url: &str, command: DlqCommand) -> anyhow::Result<ExitCode> {
    match command {
        DlqCommand::List { queue, output } => {
            let letters = DeadLetters::open(amqp_url, &queue.queue)
                .await?
                .list()
                .await?;
            match output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&letters)?),
                Output::Table if letters.is_empty() => {
                    println!("no dead letters in {}.dlq", queue.queue);
                }
                Output::Table => print!("{}", table(&letters)),
            }
        }
        DlqCommand::Show { queue, event_id } => {
            let letter = DeadLetters::open(amqp_url, &queue.queue)
                .await?
                .show(event_id)
                .await?;
            let mut json = serde_json::to_value(&letter)?;
            match letter.decoded() {
                DecodedPayload::Json(payload) => json["payload"] = payload,
                DecodedPayload::Hex { hex, note } => {
                    eprintln!("note: {note}");
                    json["payload_hex"] = hex.into();
                    json["note"] = note.into();
                }
            }
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        DlqCommand::Replay { queue, selection } => {
            let replayed = DeadLetters::open(amqp_url, &queue.queue)
                .await?
                .replay(selection.selection())
                .await?;
            println!(
                "replayed {replayed} dead letter{} from {}.dlq",
                plural(replayed),
                queue.queue
            );
        }
        DlqCommand::Discard {
            queue,
            selection,
            yes,
        } => {
            if !yes {
                // Refused before connecting: nothing can have changed.
                eprintln!(
                    "civicgrid: discard deletes {} for good; add --yes to confirm (nothing was changed)",
                    selection.describe(&queue.queue)
                );
                return Ok(ExitCode::from(2));
            }
            let discarded = DeadLetters::open(amqp_url, &queue.queue)
                .await?
                .discard(selection.selection())
                .await?;
            println!(
                "discarded {discarded} dead letter{} from {}.dlq",
                plural(discarded),
                queue.queue
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The list as aligned columns, one dead letter a line, oldest first.
fn table(letters: &[DeadLetter]) -> String {
    let header = [
        "EVENT ID",
        "ROUTING KEY",
        "MESSAGE TYPE",
        "FIRST DEATH",
        "DEATHS",
        "DIED AT",
    ];
    let rows: Vec<[String; 6]> = letters
        .iter()
        .map(|letter| {
            [
                letter
                    .event_id
                    .map(|id| id.to_string())
                    .or_else(|| letter.message_id.clone())
                    .unwrap_or_else(|| "-".to_owned()),
                letter.routing_key.clone(),
                letter
                    .message_type
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
                letter
                    .first_death_reason
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
                letter.death_count.to_string(),
                letter
                    .died_at
                    .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                    .unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}
