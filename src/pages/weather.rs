//! `/weather`: the lookup form and the current conditions. Requires sign-in.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorNotice, RequireSignIn};
use crate::error::AppError;
use crate::state::{api, auth::AuthContext};
use crate::weather::{fixed, format_value, Conditions, FormError, Resume, Units, WeatherQuery};

#[component]
pub fn WeatherPage() -> impl IntoView {
    view! { <RequireSignIn><WeatherForm/></RequireSignIn> }
}

#[component]
fn WeatherForm() -> impl IntoView {
    let auth = AuthContext::use_context();
    let city = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let country = RwSignal::new("US".to_owned());
    let units = RwSignal::new(Units::Metric);
    let loading = RwSignal::new(false);
    let form_error = RwSignal::new(None::<&'static str>);
    let outcome = RwSignal::new(None::<Result<(Conditions, Units, String), AppError>>);
    // Only the latest request's answer is shown; a late answer to an older one is dropped.
    let generation = StoredValue::new(0u32);

    let submit = move |resumed: bool| {
        let query = match WeatherQuery::from_form(
            &city.get_untracked(),
            &state.get_untracked(),
            &country.get_untracked(),
            units.get_untracked(),
        ) {
            Ok(q) => q,
            Err(FormError(message)) => {
                form_error.set(Some(message));
                return;
            }
        };
        let resume = Resume::Weather {
            city: city.get_untracked(),
            state: state.get_untracked(),
            country: country.get_untracked(),
            units: units.get_untracked().as_str().to_owned(),
        };
        form_error.set(None);
        loading.set(true);
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let result = api::current_weather(auth, &query, resume, resumed).await;
            // A newer lookup started, or the page is gone: this answer is stale.
            if generation.try_get_value() != Some(mine) {
                return;
            }
            loading.set(false);
            outcome.set(Some(result.map(|c| (c, query.units, query.city))));
        });
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit(false);
    };

    // Back from the provider in the middle of a lookup: finish it.
    if let Some((
        Resume::Weather {
            city: c,
            state: s,
            country: k,
            units: u,
        },
        declined,
    )) = api::take_resume(auth)
    {
        city.set(c);
        state.set(s);
        country.set(k);
        units.set(Units::parse(&u).unwrap_or_default());
        match declined {
            Some(message) => outcome.set(Some(Err(AppError::new(
                message,
                crate::error::Action::None,
            )))),
            None => submit(true),
        }
    }

    view! {
        <h1>"Weather"</h1>
        <form class="lookup" on:submit=on_submit novalidate>
            <div class="field">
                <label for="city">"City"</label>
                <input id="city" name="city" required autocomplete="address-level2" bind:value=city/>
            </div>
            <div class="field">
                <label for="state">"State"</label>
                <input id="state" name="state" maxlength="2" size="3" autocomplete="address-level1" bind:value=state/>
            </div>
            <div class="field">
                <label for="country">"Country"</label>
                <input id="country" name="country" size="3" autocomplete="country" bind:value=country/>
            </div>
            <div class="field">
                <label for="units">"Units"</label>
                <select id="units" name="units" on:change=move |ev| {
                    if let Some(u) = Units::parse(&event_target_value(&ev)) {
                        units.set(u);
                    }
                }>
                    {Units::ALL
                        .into_iter()
                        .map(|u| view! { <option value=u.as_str() selected=move || units.get() == u>{u.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" disabled=move || loading.get()>"Get weather"</button>
        </form>
        {move || form_error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        {move || loading.get().then(|| view! { <p role="status" class="loading">"Loading the weather…"</p> })}
        {move || match outcome.get() {
            None => None,
            Some(Err(error)) => Some(view! { <ErrorNotice error/> }.into_any()),
            Some(Ok((c, u, place))) => Some(view! { <Report conditions=c units=u place/> }.into_any()),
        }}
    }
}

#[component]
fn Report(conditions: Conditions, units: Units, place: String) -> impl IntoView {
    let t = units.temperature_symbol();
    view! {
        <section class="report" aria-label="Current weather">
            <h2>{place}</h2>
            <dl>
                <dt>"Temperature"</dt><dd>{format_value(conditions.temp, t)}</dd>
                <dt>"Feels like"</dt><dd>{format_value(conditions.feels_like, t)}</dd>
                <dt>"Min / max"</dt><dd>{format!("{} / {}", format_value(conditions.temp_min, t), format_value(conditions.temp_max, t))}</dd>
                <dt>"Pressure"</dt><dd>{format!("{} hPa", fixed(conditions.pressure, 0))}</dd>
                <dt>"Humidity"</dt><dd>{format!("{} %", fixed(conditions.humidity, 0))}</dd>
            </dl>
        </section>
    }
}
