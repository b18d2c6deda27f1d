//! The command line: `serve`, `migrate`, `keys create`, `simulate`.

use crate::auth::Role;
use crate::settings::{LogFormat, Overrides, Settings};
use crate::startup::{Application, open_store, shutdown_signal};
use crate::{demo, telemetry};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// geoffer: rare, relevant offers at the right moment.
#[derive(Debug, Parser)]
#[command(name = "geoffer", version, about)]
pub struct Cli {
    /// Optional TOML settings file (defaults < file < environment < flags).
    #[arg(long, global = true, env = "GEOFFER_CONFIG")]
    config: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, env = "GEOFFER_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run a synthetic city through the real engine on a virtual clock and report how rare
    /// offers are (docs/simulate.md).
    Simulate(SimulateArgs),
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum World {
    /// The fixtures' brands, fences and offers (`serve --demo`'s world).
    Demo,
    /// 12 brands, 1200 fences around the fixtures' stores, offers mostly on place alone.
    Generated,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    /// For people.
    Text,
    /// One JSON object.
    Json,
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// The world: its brands, fences and offers.
    #[arg(long, value_enum, default_value = "demo")]
    world: World,
    /// Where the demo world's fixtures live.
    #[arg(long, default_value = "fixtures")]
    fixtures: PathBuf,
    /// Simulated weeks.
    #[arg(long, default_value_t = 4)]
    weeks: u32,
    /// The seed: the same seed gives the same report.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// People in the city.
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// The first day (its week's Monday is the start), YYYY-MM-DD.
    #[arg(long, default_value = "2026-07-06")]
    start: chrono::NaiveDate,
    /// Local quiet hours, `HH:MM-HH:MM` or `off` (default 21:00-08:00).
    #[arg(long, env = "GEOFFER_QUIET_HOURS")]
    quiet_hours: Option<String>,
    /// The relevance an offer needs (default 1: place alone is enough); 2.25 asks for the
    /// place and two more signals (docs/simulate.md).
    #[arg(long)]
    min_relevance: Option<f64>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

#[derive(Debug, Args)]
struct DbArgs {
    /// Database URL (default: an SQLite file under ./data/).
    #[arg(long, env = "GEOFFER_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Load fixtures/ into a fresh embedded database and print demo keys and curl commands.
    #[arg(long)]
    demo: bool,
    /// Where the demo fixtures live.
    #[arg(long, default_value = "fixtures")]
    fixtures: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "GEOFFER_BIND")]
    bind: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Redis URL for strict rate limits across replicas (unset: the in-process twin).
    #[arg(long, env = "GEOFFER_REDIS_URL")]
    redis_url: Option<String>,
    /// Prefix of every Redis key.
    #[arg(long, env = "GEOFFER_REDIS_KEY_PREFIX")]
    redis_key_prefix: Option<String>,
    /// Open-Meteo base URL.
    #[arg(long, env = "GEOFFER_WEATHER_URL")]
    weather_url: Option<String>,
    /// Serve recorded weather from this directory instead of calling Open-Meteo.
    #[arg(long, env = "GEOFFER_WEATHER_DIR")]
    weather_dir: Option<PathBuf>,
    /// Local quiet hours, `HH:MM-HH:MM` or `off` (default 21:00-08:00; `--demo`: off).
    #[arg(long, env = "GEOFFER_QUIET_HOURS")]
    quiet_hours: Option<String>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a key and print it once, alone on the last line.
    Create {
        /// The key's role.
        #[arg(long, value_enum)]
        role: Role,
        /// The brand, for brand keys.
        #[arg(long)]
        brand: Option<String>,
        /// The app, for app keys (default `default`); keys of one app share its users.
        #[arg(long)]
        app: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Parses arguments and runs the command.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let base = Overrides {
        log_format: cli.log_format,
        ..Default::default()
    };
    match cli.command {
        Command::Serve(args) => {
            let demo_db = args.demo.then(demo::fresh_database_url).transpose()?;
            let overrides = Overrides {
                bind: args.bind,
                database_url: demo_db.or(args.db.database_url),
                redis_url: args.redis_url,
                redis_key_prefix: args.redis_key_prefix,
                weather_url: args.weather_url,
                weather_dir: args
                    .weather_dir
                    .or_else(|| args.demo.then(|| args.fixtures.join("weather"))),
                // The demo's check-in curl must work at any hour of the day.
                quiet_hours: args
                    .quiet_hours
                    .or_else(|| args.demo.then(|| "off".to_string())),
                ..base
            };
            let settings = Settings::load(cli.config.as_deref(), overrides)?;
            telemetry::init(settings.log_format);
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "listening");
            if args.demo {
                let world = demo::load(app.state(), &args.fixtures).await?;
                demo::print_instructions(&world, app.port());
            }
            app.run_until_stopped(shutdown_signal()).await
        }
        Command::Simulate(args) => {
            let mut settings = Settings::load(
                cli.config.as_deref(),
                Overrides {
                    quiet_hours: args.quiet_hours,
                    ..base
                },
            )?;
            if let Some(m) = args.min_relevance {
                settings.min_relevance = m;
            }
            let report = crate::simulate::run(&crate::simulate::Options {
                world: match args.world {
                    World::Demo => crate::simulate::WorldKind::Demo,
                    World::Generated => crate::simulate::WorldKind::Generated,
                },
                fixtures: args.fixtures,
                weeks: args.weeks,
                seed: args.seed,
                people: args.people,
                start: args.start,
                settings,
            })
            .await?;
            match args.format {
                ReportFormat::Text => print!("{}", report.to_text()),
                ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            Ok(())
        }
        Command::Migrate(db) => {
            let settings = Settings::load(
                cli.config.as_deref(),
                Overrides {
                    database_url: db.database_url,
                    ..base
                },
            )?;
            telemetry::init(settings.log_format);
            open_store(&settings).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys(KeysCommand::Create {
            role,
            brand,
            app,
            db,
        }) => {
            let settings = Settings::load(
                cli.config.as_deref(),
                Overrides {
                    database_url: db.database_url,
                    ..base
                },
            )?;
            let store = open_store(&settings).await?;
            // The catalog service's rules, as for POST /v1/keys; no acting key in the audit.
            let catalog = crate::services::catalog::CatalogService::new(
                store,
                crate::changes::ChangeFeed::new(1),
                Arc::new(crate::clock::SystemClock),
            );
            let key = catalog
                .mint_key(
                    None,
                    crate::services::catalog::NewKeyRequest { role, brand, app },
                )
                .await
                .map_err(|e| {
                    let p = e.to_problem();
                    let fields: Vec<String> = p
                        .errors
                        .iter()
                        .map(|f| format!("{}: {}", f.pointer, f.reason))
                        .collect();
                    anyhow::anyhow!("{} {}", p.detail, fields.join("; "))
                })?;
            eprintln!(
                "created {} key {} (shown once; store it now)",
                role.as_str(),
                key.id
            );
            println!("{}", key.key);
            Ok(())
        }
    }
}
