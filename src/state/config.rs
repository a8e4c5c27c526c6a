//! Loading `config.json` from the folder that holds `index.html`.

use crate::config::{parse_config, Config};
use crate::error::{Action, AppError};
use crate::platform::{browser, http};

pub async fn load() -> Result<Config, AppError> {
    let url = format!(
        "{}config.json",
        browser::base_uri().trim_end_matches("index.html")
    );
    let reply = http::get_own(&url)
        .await
        .map_err(|_| AppError::new("Couldn't load config.json from this site.", Action::Retry))?;
    if reply.status != 200 {
        return Err(AppError::new(
            format!(
                "Couldn't load config.json (HTTP {}). Deploy it beside index.html.",
                reply.status
            ),
            Action::FixConfig,
        ));
    }
    let config = parse_config(&reply.body, &browser::origin())?;
    // From here on the page may connect only to this site, the authority and the API.
    browser::add_policy(&config.connect_policy())?;
    Ok(config)
}
