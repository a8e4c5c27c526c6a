//! Loading `config.json` from the folder that holds `index.html`.

use crate::config::{parse_config_at, Config};
use crate::error::{Action, AppError};
use crate::platform::{browser, http};

pub async fn load() -> Result<Config, AppError> {
    let base_path = browser::base_path();
    let url = format!("{}{base_path}config.json", browser::origin());
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
    let config = parse_config_at(&reply.body, &browser::origin(), &base_path)?;
    // From here on the page may connect only to this site, the authority and the API.
    browser::add_policy(&config.connect_policy())?;
    Ok(config)
}
