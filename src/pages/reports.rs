//! `/reports`: the reports everyone filed (read scope) and a form to add one (write scope,
//! asked for on first use — incremental consent — with the draft kept through the round trip).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ErrorNotice, RequireSignIn, Scene};
use crate::error::{Action, AppError};
use crate::platform::browser;
use crate::present::{parse_timestamp, relative_time};
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
    // The report just added: highlighted in the list, confirmed in a live region.
    let added = RwSignal::new(None::<String>);
    let announcement = RwSignal::new(String::new());

    let reload = move || {
        spawn_local(async move {
            let _ = reports.try_set(Some(api::list_reports(auth).await));
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
                browser::focus(if draft.description.trim().is_empty() {
                    "#description"
                } else {
                    "#report-city"
                });
                return;
            }
        };
        if sending.get_untracked() {
            return;
        }
        message.set(None);
        announcement.set(String::new());
        sending.set(true);
        spawn_local(async move {
            match api::add_report(auth, &draft, &body, resumed).await {
                Ok(report) => {
                    let _ = announcement.try_set(format!("Report added for {}.", report.place()));
                    let _ = added.try_set(Some(report.id));
                    // Back from the provider's consent page, start at the confirmation.
                    if resumed {
                        browser::after_render(|| {
                            browser::focus(".confirm");
                        });
                    }
                    let _ = description.try_set(String::new());
                    let _ = city.try_set(String::new());
                    let _ = state.try_set(String::new());
                    let _ = country.try_set("US".into());
                    reload();
                }
                Err(e) => {
                    let _ = message.try_set(Some(e));
                }
            }
            let _ = sending.try_set(false);
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

    let retry = Callback::new(move |_: ()| reload());
    view! {
        <h1>"Reports"</h1>
        <form class="lookup card" on:submit=on_submit novalidate aria-labelledby="add-heading">
            <h2 id="add-heading" class="form-title">"Add a report"</h2>
            <div class="field wide">
                <label for="description">"Description"</label>
                <input id="description" name="description" required bind:value=description
                    aria-describedby="description-hint"/>
                <p class="field-hint" id="description-hint">"What you see, e.g. \"Light snow, windy\""</p>
            </div>
            <div class="field grow">
                <label for="report-city">"City"</label>
                <input id="report-city" name="city" required autocomplete="address-level2" bind:value=city/>
            </div>
            <div class="field narrow">
                <label for="report-state">"State"</label>
                <input id="report-state" name="state" maxlength="2" size="3" autocomplete="address-level1"
                    aria-describedby="report-state-hint" bind:value=state/>
                <p class="field-hint" id="report-state-hint">"2-letter US state, optional"</p>
            </div>
            <div class="field narrow">
                <label for="report-country">"Country"</label>
                <input id="report-country" name="country" size="3" autocomplete="country"
                    aria-describedby="report-country-hint" bind:value=country/>
                <p class="field-hint" id="report-country-hint">"2-letter code, e.g. US, GB"</p>
            </div>
            <button type="submit" class="primary" aria-disabled=move || sending.get().to_string()>"Add report"</button>
        </form>
        <p class="sr-only" role="status">{move || announcement.get()}</p>
        {move || sending.get().then(|| view! { <p class="loading">"Sending your report…"</p> })}
        {move || message.get().map(|error| view! { <ErrorNotice error/> })}
        {move || added.get().is_some().then(|| view! { <p class="confirm">"Your report was added. Thank you!"</p> })}
        <h2 class="list-title">"Latest reports"</h2>
        {move || match reports.get() {
            None => view! { <p role="status" class="loading">"Loading reports…"</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorNotice error on_retry=retry/> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! {
                <div class="empty">
                    <Scene/>
                    <p>"No reports yet."</p>
                    <p class="hint">"Be the first: describe the weather where you are with the form above."</p>
                </div>
            }
            .into_any(),
            Some(Ok(list)) => {
                let now = browser::now_secs() as i64;
                view! {
                <ol class="reports" aria-label="Reports list">
                    {list
                        .into_iter()
                        .map(|r| {
                            let place = r.place();
                            let fallback_when = r.when();
                            let stamp = r.created_date.as_deref().and_then(parse_timestamp);
                            let is_new = added.get_untracked().as_deref() == Some(r.id.as_str());
                            view! {
                                <li class="report-card" class:new=is_new>
                                    <div class="report-meta">
                                        <span class="place">{place}</span>
                                        {is_new.then(|| view! { <span class="badge">"New"</span> })}
                                    </div>
                                    <p class="description">{r.description}</p>
                                    {match stamp {
                                        Some(at) => view! {
                                            <p class="when">
                                                <time datetime=r.created_date.clone().unwrap_or_default()>{browser::local_time(at, true)}</time>
                                                " · " {relative_time(now, at)}
                                            </p>
                                        }
                                        .into_any(),
                                        None => view! { <p class="when">{fallback_when}</p> }.into_any(),
                                    }}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
                }
                .into_any()
            }
        }}
    }
}
