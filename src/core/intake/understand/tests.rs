use super::*;

fn catalog() -> Catalog {
    use crate::core::domain::SkillKey;
    use crate::core::domain::catalog::Skill;
    let skill = |key: &str, en: &str, es: &str| Skill {
        key: SkillKey::parse(key).unwrap(),
        names: [(Locale::En, en.to_string()), (Locale::Es, es.to_string())].into(),
    };
    Catalog::new(vec![
        skill("billing", "Billing", "Facturación"),
        skill("support", "Support", "Soporte"),
        skill("spanish", "Spanish", "Español"),
    ])
}

fn verdict(text: &str) -> Verdict {
    read(text, Locale::En, &catalog()).command()
}

fn verdict_es(text: &str) -> Verdict {
    read(text, Locale::Es, &catalog()).command()
}

#[track_caller]
fn assert_each(texts: &[&str], want: Verdict) {
    let wrong: Vec<String> = texts
        .iter()
        .filter_map(|t| {
            let got = verdict(t);
            (got != want).then(|| format!("{t:?}: got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "want {want:?}\n{}", wrong.join("\n"));
}

fn sure(intent: Intent) -> Verdict {
    Verdict::Sure(intent)
}

#[test]
fn a_command_wrapped_in_other_words_is_still_the_command() {
    assert_each(
        &[
            "on",
            "ON!!",
            "hey, I'm on now 😊",
            "good morning team, logging in",
            "ok logged in",
            "I'm back from lunch",
            "ready to take calls",
            "activo",
            "ya me conecté",
            "toy disponible",
        ],
        sure(Intent::On),
    );
    assert_each(
        &[
            "off",
            "heading out for the night, thanks all",
            "logging off",
            "signing out now",
            "done for the day",
            "gotta go, sick kid",
            "me desconecto",
            "ya terminé mi turno",
            "me voy a comer",
        ],
        sure(Intent::Off),
    );
}

#[test]
fn a_negation_turns_availability_into_off() {
    assert_each(
        &[
            "not available",
            "I'm not available today",
            "can't work today",
            "cannot take calls right now",
            "won't be available tonight",
            "no estoy disponible",
            "no puedo trabajar hoy",
            "ya no estoy conectada",
        ],
        sure(Intent::Off),
    );
}

#[test]
fn a_problem_report_is_not_a_command() {
    // "can't log in" is a login problem, not a request to go offline: it asks back.
    assert_eq!(verdict("I can't log in"), Verdict::Unsure(Intent::Off));
}

#[test]
fn the_longest_phrase_wins_so_look_alikes_are_not_commands() {
    for text in ["on my way", "omw", "on the phone with a customer", "ya voy"] {
        assert!(
            !matches!(verdict(text), Verdict::Sure(_) | Verdict::Unsure(_)),
            "{text:?}: {:?}",
            verdict(text)
        );
    }
    assert_eq!(verdict("going on break"), sure(Intent::Off));
    assert_eq!(verdict("off lunch, back on"), sure(Intent::On));
}

#[test]
fn a_text_that_asks_both_ways_is_never_acted_on() {
    for text in [
        "on or off?",
        "on? off? idk",
        "log in or log out, not sure",
        "activo o salir",
    ] {
        assert!(
            matches!(verdict(text), Verdict::Unknown(ref c) if c.contains(&Intent::On) && c.contains(&Intent::Off)),
            "{text:?}: {:?}",
            verdict(text)
        );
    }
}

#[test]
fn a_hedge_or_a_weak_word_asks_back() {
    assert_eq!(
        verdict("maybe I should log off"),
        Verdict::Unsure(Intent::Off)
    );
    assert_eq!(verdict("sick"), Verdict::Unsure(Intent::Off));
    assert_eq!(verdict("No, I'm available"), Verdict::Unsure(Intent::On));
}

#[test]
fn a_question_about_the_state_asks_for_status() {
    assert_each(
        &[
            "am I on?",
            "am i still online",
            "is it showing me as available",
            "What's my status?",
            "?",
        ],
        sure(Intent::Status),
    );
    assert_eq!(verdict_es("estoy conectada?"), sure(Intent::Status));
    // A polite request stays a command.
    assert_eq!(verdict("can you log me out?"), sure(Intent::Off));
}

#[test]
fn a_time_after_the_command_makes_a_hold() {
    use chrono::NaiveTime;
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let hold = |online, until| sure(Intent::Hold { online, until });
    assert_eq!(verdict("ON until 6pm"), hold(true, Until::Time(t(18, 0))));
    assert_eq!(verdict("online till 6"), hold(true, Until::Hour(t(6, 0))));
    assert_eq!(verdict("off for 30m"), hold(false, Until::Minutes(30)));
    assert_eq!(verdict("brb 10 min"), hold(false, Until::Minutes(10)));
    assert_eq!(verdict("back in 15"), hold(false, Until::Minutes(15)));
    assert_eq!(verdict("taking 5"), hold(false, Until::Minutes(5)));
    assert_eq!(
        verdict("logging off, back on at 7"),
        hold(false, Until::Hour(t(7, 0)))
    );
    assert_eq!(
        verdict_es("activo hasta las 6 de la tarde"),
        hold(true, Until::Time(t(18, 0)))
    );
    assert_eq!(
        verdict_es("salgo por media hora"),
        hold(false, Until::Minutes(30))
    );
    assert_eq!(
        verdict_es("5 minutitos y regreso"),
        hold(false, Until::Minutes(5))
    );
}

#[test]
fn a_future_time_is_about_later_not_now() {
    assert_eq!(verdict("I'll be on at 3"), Verdict::Later(true));
    assert_eq!(
        verdict("gonna log in around 8 tonight"),
        Verdict::Later(true)
    );
    assert_eq!(verdict("off tomorrow"), Verdict::Later(false));
    // Leaving now and saying when you come back is not about later.
    assert_eq!(verdict("bye, back tomorrow"), sure(Intent::Off));
}

#[test]
fn slips_in_long_words_are_forgiven_and_never_in_short_ones() {
    assert_eq!(verdict("im availble"), sure(Intent::On));
    assert_eq!(verdict("ofline"), sure(Intent::Off));
    assert_eq!(verdict_es("desconetada"), sure(Intent::Off));
    // "of" is one letter from "off" and "no" from "on": short words are taken as written.
    assert!(!matches!(verdict("of"), Verdict::Sure(_)));
    assert!(!matches!(verdict("no"), Verdict::Sure(Intent::On)));
}

#[test]
fn yes_and_no_are_answers_not_words_inside_a_sentence() {
    let reading = |t: &str| read(t, Locale::Es, &catalog()).answer();
    assert_eq!(reading("si, guárdalo"), Some(Answer::Yes));
    assert_eq!(reading("sounds good"), Some(Answer::Yes));
    assert_eq!(reading("👍"), Some(Answer::Yes));
    assert_eq!(reading("nah forget it"), Some(Answer::No));
    assert_eq!(reading("no I picked the wrong one"), Some(Answer::No));
    assert_eq!(reading("mi internet esta bien lento hoy"), None);
}

#[test]
fn carrier_words_count_only_as_the_whole_message() {
    assert_eq!(verdict("STOP"), sure(Intent::Stop));
    assert_eq!(verdict("Unsubscribe"), sure(Intent::Stop));
    assert_eq!(verdict("start"), sure(Intent::Start));
    assert_ne!(verdict("stop calling me"), sure(Intent::Stop));
    assert_ne!(verdict("please stop"), sure(Intent::Stop));
}

#[test]
fn first_word_commands_keep_the_workers_own_words() {
    assert_eq!(
        verdict("JOIN 4321 María López"),
        sure(Intent::Join {
            pin: "4321".into(),
            name: "María López".into()
        })
    );
    assert_eq!(
        verdict("Schedule: Weekdays 9am-5pm "),
        sure(Intent::Schedule {
            hours: "Weekdays 9am-5pm".into()
        })
    );
    assert_eq!(
        verdict("tz America/Denver"),
        sure(Intent::TimeZone {
            zone: "America/Denver".into()
        })
    );
    assert_eq!(
        verdict("esta semana trabajo de martes a sabado 9 a 5"),
        sure(Intent::Schedule {
            hours: "de martes a sabado 9 a 5".into()
        })
    );
}

#[test]
fn languages_and_skills_are_told_apart() {
    assert_eq!(
        verdict("lang es"),
        sure(Intent::Lang {
            language: Some(Locale::Es)
        })
    );
    assert_eq!(
        verdict("can u text me in spanish, my english not so good"),
        sure(Intent::Lang {
            language: Some(Locale::Es)
        })
    );
    assert_eq!(verdict("lang fr"), sure(Intent::Lang { language: None }));
    assert_eq!(
        verdict("I want to do spanish calls too"),
        sure(Intent::Skills)
    );
}

#[test]
fn long_and_hostile_texts_are_not_commands_and_never_panic() {
    let inputs = [
        "x".repeat(1600),
        "á".repeat(1600),
        "\u{301}".repeat(1600),
        "👍".repeat(400),
        "on ".repeat(200),
        "\u{0}\u{1}\u{7f}\u{1b}[31m".to_string(),
        "مرحبا بالعالم".to_string(),
        "👨\u{200D}👩\u{200D}👧".to_string(),
        "\u{FEFF}\u{FFFD}\u{10FFFF}".to_string(),
        "ǅ ﬁ ß".to_string(),
        "'''''".to_string(),
        "n't".to_string(),
    ];
    for input in &inputs {
        assert!(
            !matches!(verdict(input), Verdict::Sure(_) | Verdict::Unsure(_)),
            "{input:?}"
        );
    }
    assert_eq!(verdict("\u{202E}on\u{202C}"), sure(Intent::On));
    assert_eq!(verdict("o\u{200D}n"), sure(Intent::On));
}

#[test]
fn a_reading_survives_the_store_as_json() {
    let intent = Intent::Hold {
        online: false,
        until: Until::Minutes(30),
    };
    let json = serde_json::to_string(&intent).unwrap();
    assert_eq!(serde_json::from_str::<Intent>(&json).unwrap(), intent);
}
