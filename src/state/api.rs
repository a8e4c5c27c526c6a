//! Calls to the weather API with the user's delegated access token.

use leptos::prelude::GetValue;

use crate::error::AppError;
use crate::platform::http::{self, FetchError};
use crate::state::auth::AuthContext;
use crate::url::parse_absolute;
use crate::weather::{parse_response, ApiError, Conditions, WeatherQuery};

/// `GET /api/weather/{city}` with `Authorization: Bearer` for the read scope.
pub async fn current_weather(
    auth: AuthContext,
    query: &WeatherQuery,
) -> Result<Conditions, AppError> {
    let config = auth.config.get_value();
    let scopes = [config.api.read_scope.clone()];
    let token = auth.access_token(&scopes).await?;
    let url = query.url(&config.api.base_url);
    let reply = http::get(&url, Some(&token)).await.map_err(|e| match e {
        FetchError::Timeout => ApiError::Timeout,
        FetchError::Network => ApiError::Network {
            origin: parse_absolute(&config.api.base_url)
                .map(|u| u.origin())
                .unwrap_or_default(),
        },
    })?;
    if reply.status == 401 {
        // The API refused this token: never offer it again.
        auth.drop_access_token(&scopes);
    }
    Ok(parse_response(reply.status, &reply.body)?)
}
