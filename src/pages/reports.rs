//! `/reports`: the reports everyone filed (read scope) and a form to add one (write scope,
//! asked for on first use — incremental consent — with the draft kept through the round trip).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorNotice, RequireSignIn};
use crate::error::{Action, AppError};
use crate::state::{api, auth::AuthContext};
use crate::weather::{FormError, Report, ReportDraft, Resume};

#[component]
pub fn ReportsPage() -> impl IntoView {
    view! { <RequireSignIn><Reports/></RequireSignIn> }
}

#[component]
fn Reports() -> impl IntoView {
    let auth = AuthContext::use_context();
    let description = RwSignal::new(String::new());
    let city = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let country = RwSignal::new("US".to_owned());
    let sending = RwSignal::new(false);
    let message = RwSignal::new(None::<AppError>);
    let reports = RwSignal::new(None::<Result<Vec<Report>, AppError>>);

    let reload = move || {
        spawn_local(async move {
            reports.set(Some(api::list_reports(auth).await));
        });
    };

    let draft = move || ReportDraft {
        description: description.get_untracked(),
        city: city.get_untracked(),
        state: state.get_untracked(),
        country: country.get_untracked(),
    };
    let submit = move |draft: ReportDraft, resumed: bool| {
        let body = match draft.request_body() {
            Ok(b) => b,
            Err(FormError(m)) => {
                message.set(Some(AppError::new(m, Action::None)));
                return;
            }
        };
        message.set(None);
        sending.set(true);
        spawn_local(async move {
            match api::add_report(auth, &draft, &body, resumed).await {
                Ok(_) => {
                    description.set(String::new());
                    city.set(String::new());
                    state.set(String::new());
                    country.set("US".into());
                    reload();
                }
                Err(e) => message.set(Some(e)),
            }
            sending.set(false);
        });
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit(draft(), false);
    };

    // Back from the provider's consent page: post the report the user typed, or keep it and
    // say why not.
    let mut resumed_submit = None;
    if let Some((Resume::AddReport(d), declined)) = api::take_resume(auth) {
        description.set(d.description.clone());
        city.set(d.city.clone());
        state.set(d.state.clone());
        country.set(d.country.clone());
        match declined {
            Some(m) => message.set(Some(AppError::new(m, Action::None))),
            None => resumed_submit = Some(d),
        }
    }
    reload();
    if let Some(d) = resumed_submit {
        submit(d, true);
    }

    view! {
        <h1>"Reports"</h1>
        <form class="lookup" on:submit=on_submit novalidate>
            <div class="field wide">
                <label for="description">"Description"</label>
                <input id="description" name="description" required bind:value=description/>
            </div>
            <div class="field">
                <label for="report-city">"City"</label>
                <input id="report-city" name="city" required bind:value=city/>
            </div>
            <div class="field">
                <label for="report-state">"State"</label>
                <input id="report-state" name="state" maxlength="2" size="3" bind:value=state/>
            </div>
            <div class="field">
                <label for="report-country">"Country"</label>
                <input id="report-country" name="country" size="3" bind:value=country/>
            </div>
            <button type="submit" disabled=move || sending.get()>"Add report"</button>
        </form>
        {move || sending.get().then(|| view! { <p role="status" class="loading">"Sending your report…"</p> })}
        {move || message.get().map(|error| view! { <ErrorNotice error/> })}
        {move || match reports.get() {
            None => view! { <p role="status" class="loading">"Loading reports…"</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorNotice error/> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p>"No reports yet."</p> }.into_any(),
            Some(Ok(list)) => view! {
                <ul class="reports" aria-label="Reports list">
                    {list
                        .into_iter()
                        .map(|r| {
                            let when = r.when();
                            let place = r.place();
                            view! {
                                <li>
                                    <strong>{place}</strong>
                                    " — " {r.description}
                                    " " <time datetime=r.created_date.clone().unwrap_or_default()>{when}</time>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        }}
    }
}
