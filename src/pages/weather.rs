//! `/weather`: the lookup form and the current conditions. Requires sign-in.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorNotice, RequireSignIn};
use crate::error::AppError;
use crate::platform::browser;
use crate::present::{humidity_drop_svg, range_bar_svg, RangeBar};
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
    let outcome = RwSignal::new(None::<Result<Found, AppError>>);
    // Read by screen readers (a polite live region): what the last lookup found.
    let announcement = RwSignal::new(String::new());
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
                outcome.set(None);
                form_error.set(Some(message));
                browser::focus("#city");
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
        outcome.set(None);
        announcement.set(String::new());
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
            let place = place_label(&query);
            let found = result.map(|conditions| Found {
                conditions,
                units: query.units,
                place,
                at: browser::now_secs() as i64,
            });
            if let Ok(f) = &found {
                announcement.set(format!(
                    "Weather for {}: {}, feels like {}.",
                    f.place,
                    format_value(f.conditions.temp, f.units.temperature_symbol()),
                    format_value(f.conditions.feels_like, f.units.temperature_symbol())
                ));
            }
            outcome.set(Some(found));
            // Back from the provider mid-lookup, nothing has focus yet: start at the result.
            if resumed {
                browser::after_render(|| {
                    browser::focus(".report h2, .error");
                });
            }
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

    let retry = Callback::new(move |_: ()| submit(false));
    let city_error = move || form_error.get().is_some();
    view! {
        <h1>"Weather"</h1>
        <form class="lookup card" on:submit=on_submit novalidate>
            <div class="field grow">
                <label for="city">"City"</label>
                <input id="city" name="city" required autocomplete="address-level2"
                    aria-invalid=move || city_error().to_string()
                    aria-describedby=move || city_error().then_some("city-error")
                    bind:value=city/>
            </div>
            <div class="field narrow">
                <label for="state">"State"</label>
                <input id="state" name="state" maxlength="2" size="3" autocomplete="address-level1"
                    aria-describedby="state-hint" bind:value=state/>
                <p class="field-hint" id="state-hint">"2-letter US state, optional"</p>
            </div>
            <div class="field narrow">
                <label for="country">"Country"</label>
                <input id="country" name="country" size="3" autocomplete="country"
                    aria-describedby="country-hint" bind:value=country/>
                <p class="field-hint" id="country-hint">"2-letter code, e.g. US, GB"</p>
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
            <button type="submit" class="primary">"Get weather"</button>
        </form>
        {move || form_error.get().map(|m| view! { <p class="error form-error" id="city-error" role="alert">{m}</p> })}
        <p class="sr-only" role="status">{move || announcement.get()}</p>
        <div class="result-area">
            {move || {
                if loading.get() {
                    return Some(view! { <Skeleton/> }.into_any());
                }
                match outcome.get() {
                    None => None,
                    Some(Err(error)) => Some(view! { <ErrorNotice error on_retry=retry/> }.into_any()),
                    Some(Ok(found)) => Some(view! { <Report found/> }.into_any()),
                }
            }}
        </div>
    }
}

/// What a lookup found, with what it was for and when.
#[derive(Clone)]
struct Found {
    conditions: Conditions,
    units: Units,
    place: String,
    at: i64,
}

/// Where the result will be, the same size, while the lookup runs: nothing jumps when it lands.
#[component]
fn Skeleton() -> impl IntoView {
    view! {
        <section class="report skeleton" aria-busy="true" aria-label="Loading the weather">
            <p class="loading">"Loading the weather…"</p>
            <div class="bone big"></div>
            <div class="bone bar"></div>
            <div class="bone boxes"></div>
        </section>
    }
}

#[component]
fn Report(found: Found) -> impl IntoView {
    let Found {
        conditions: c,
        units,
        place,
        at,
    } = found;
    let t = units.temperature_symbol();
    let bar = RangeBar::new(c.temp_min, c.temp_max, c.feels_like, c.temp);
    let (low, high) = if c.temp_min <= c.temp_max {
        (c.temp_min, c.temp_max)
    } else {
        (c.temp_max, c.temp_min)
    };
    let described = format!(
        "Temperature range bar: low {}, high {}, now {}, feels like {}.",
        format_value(low, t),
        format_value(high, t),
        format_value(c.temp, t),
        format_value(c.feels_like, t)
    );
    view! {
        <section class="report card" aria-label="Current weather">
            <div class="report-head">
                <h2>{place}</h2>
                <p class="as-of">"As of " <time>{browser::local_time(at, false)}</time></p>
            </div>
            <p class="temp">
                <span class="temp-value">{format_value(c.temp, t)}</span>
                <span class="feels">"Feels like " {format_value(c.feels_like, t)}</span>
            </p>
            <figure class="range">
                <div class="range-bar" role="img" aria-label=described inner_html=range_bar_svg(&bar, 300)></div>
                <figcaption>
                    <span><span class="key key-span" aria-hidden="true"></span>"Low " {format_value(low, t)}</span>
                    <span><span class="key key-now" aria-hidden="true"></span>"Now " {format_value(c.temp, t)}</span>
                    <span><span class="key key-feels" aria-hidden="true"></span>"Feels like " {format_value(c.feels_like, t)}</span>
                    <span>"High " {format_value(high, t)}</span>
                </figcaption>
            </figure>
            <dl class="tiles">
                <div class="tile">
                    <dt>"Humidity"</dt>
                    <dd>
                        <span class="pic" inner_html=humidity_drop_svg(c.humidity)></span>
                        {format!("{} %", fixed(c.humidity, 0))}
                    </dd>
                </div>
                <div class="tile">
                    <dt>"Pressure"</dt>
                    <dd>{format!("{} hPa", fixed(c.pressure, 0))}</dd>
                </div>
            </dl>
        </section>
    }
}

/// "Seattle, WA, US": the city as typed, the codes in capitals.
fn place_label(query: &WeatherQuery) -> String {
    let mut parts = vec![query.city.clone()];
    if let Some(s) = &query.state {
        parts.push(s.to_ascii_uppercase());
    }
    parts.push(query.country.to_ascii_uppercase());
    parts.join(", ")
}
