//! The household directory: exposures told once, again when details
//! change, withdrawn with the positive, forgotten with the resident, and
//! kept across a snapshot.

use std::collections::VecDeque;

use pooltrace_model::IdType;

use super::*;
use crate::contact::{test_contact, test_member, test_region};
use crate::timers::Timers;

fn t(min: i64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + min * 60_000, 8 * 3600)
}

fn person(id: &str, phone: &str) -> Contact {
    test_contact(id, IdType::Other, &format!("name of {id}"), phone)
}

const HOME: HouseholdKey = 42;

/// Applies `f` and returns the exposures it sent: (person, source person).
fn exposures(
    op: &mut HouseholdOp,
    f: impl FnOnce(&mut HouseholdOp, &mut Outbox),
) -> Vec<(String, Option<String>)> {
    let (mut effects, mut msgs, mut timers) = (Vec::new(), VecDeque::new(), Timers::default());
    let mut ob = Outbox {
        effects: &mut effects,
        msgs: &mut msgs,
        timers: &mut timers,
    };
    f(op, &mut ob);
    assert!(effects.is_empty());
    msgs.into_iter()
        .map(|m| match m {
            Msg::Exposure {
                household,
                contact,
                source,
                ..
            } => {
                assert_eq!(household, HOME);
                (contact.person_id().to_string(), source.map(|s| s.person_id))
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn sent(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|(p, s)| (p.to_string(), s.map(String::from)))
        .collect()
}

fn home_of_three() -> HouseholdOp {
    let mut op = HouseholdOp::default();
    for (i, id) in ["A", "B", "C"].into_iter().enumerate() {
        let out = exposures(&mut op, |op, ob| {
            op.on_resident(HOME, person(id, "1"), t(i as i64), ob)
        });
        assert!(out.is_empty(), "nobody positive yet");
    }
    op
}

#[test]
fn co_residents_are_told_once_and_again_only_when_something_changes() {
    let mut op = home_of_three();
    let out = exposures(&mut op, |op, ob| {
        op.on_positive(HOME, "A".into(), Some((t(10), "T1".into())), t(10), ob)
    });
    assert_eq!(out, sent(&[("B", Some("A")), ("C", Some("A"))]));
    // The same sighting again: nothing new.
    let out = exposures(&mut op, |op, ob| {
        op.on_resident(HOME, person("B", "1"), t(20), ob)
    });
    assert!(out.is_empty());
    // New details for B: B is told again (the alert carries them).
    let out = exposures(&mut op, |op, ob| {
        op.on_resident(HOME, person("B", "2"), t(21), ob)
    });
    assert_eq!(out, sent(&[("B", Some("A"))]));
    // A newcomer is told at once.
    let out = exposures(&mut op, |op, ob| {
        op.on_resident(HOME, person("D", "1"), t(22), ob)
    });
    assert_eq!(out, sent(&[("D", Some("A"))]));
    // The positive is withdrawn (a correction): everyone told is untold.
    let out = exposures(&mut op, |op, ob| {
        op.on_positive(HOME, "A".into(), None, t(30), ob)
    });
    assert_eq!(out, sent(&[("B", None), ("C", None), ("D", None)]));
    assert!(op.exposed.is_empty(), "nothing left to remember");
}

#[test]
fn a_snapshot_keeps_what_each_resident_was_told() {
    let mut op = home_of_three();
    exposures(&mut op, |op, ob| {
        op.on_positive(HOME, "A".into(), Some((t(10), "T1".into())), t(10), ob)
    });
    let bytes = rmp_serde::to_vec_named(&op).unwrap();
    let mut back: HouseholdOp = rmp_serde::from_slice(&bytes).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(rmp_serde::to_vec_named(&back).unwrap(), bytes);
    // Told already: a repeated sighting sends nothing; a second positive,
    // B, earlier than A, becomes A's and C's source; B's stays A (told
    // before the snapshot: not sent again).
    let out = exposures(&mut back, |op, ob| {
        op.on_resident(HOME, person("C", "1"), t(40), ob)
    });
    assert!(out.is_empty());
    let out = exposures(&mut back, |op, ob| {
        op.on_positive(HOME, "B".into(), Some((t(5), "T0".into())), t(41), ob)
    });
    assert_eq!(out, sent(&[("A", Some("B")), ("C", Some("B"))]));
}

#[test]
fn a_forgotten_resident_is_told_again_when_seen_again() {
    let mut op = home_of_three();
    exposures(&mut op, |op, ob| {
        op.on_positive(HOME, "A".into(), Some((t(100), "T1".into())), t(100), ob)
    });
    // C was last seen at 2, the others are refreshed at 50.
    for id in ["A", "B"] {
        exposures(&mut op, |op, ob| {
            op.on_resident(HOME, person(id, "1"), t(50), ob)
        });
    }
    op.evict(t(10).millis());
    assert_eq!(op.households[&HOME].len(), 2);
    assert!(op.exposed[&HOME].told("C").is_none(), "forgotten with C");
    let out = exposures(&mut op, |op, ob| {
        op.on_resident(HOME, person("C", "1"), t(60), ob)
    });
    assert_eq!(out, sent(&[("C", Some("A"))]));
    // Everything gone once the positive is old too.
    op.evict(t(1000).millis());
    assert!(op.is_empty());
}

#[test]
fn a_resident_is_32_bytes_and_a_household_entry_32() {
    assert_eq!(std::mem::size_of::<Resident>(), 32);
    assert_eq!(std::mem::size_of::<(HouseholdKey, Box<[Resident]>)>(), 32);
}

/// Three people of one household in one pool, then one of them again in a
/// tube of their own: members of one manifest are told apart by their
/// place in it, the same person in another manifest by their id.
#[test]
fn members_of_one_manifest_are_three_residents_and_a_later_tube_matches_by_id() {
    use pooltrace_model::{Manifest, Member, TubeKind};
    let member =
        |id: &str, phone: &str| test_member(id, IdType::Other, &format!("name of {id}"), phone);
    let manifest = |tube: &str, members: Vec<Member>| Manifest {
        tube_id: tube.into(),
        kind: TubeKind::Pool,
        collected_at: t(0),
        site_id: "SITE".into(),
        region: test_region(),
        members,
        retest_of: None,
        batch_id: None,
        design: None,
        pool_index: None,
    };
    let file = |op: &mut HouseholdOp, m: &Manifest, at: Timestamp| {
        let packed = Arc::new(PackedManifest::pack(m));
        for offset in packed.members() {
            exposures(op, |op, ob| {
                op.on_resident(HOME, Contact::in_packed(&packed, offset), at, ob)
            });
        }
    };
    let mut op = HouseholdOp::default();
    let pool = manifest(
        "P1",
        vec![member("A", "1"), member("B", "1"), member("C", "1")],
    );
    file(&mut op, &pool, t(0));
    let ids = |op: &HouseholdOp| {
        op.households[&HOME]
            .iter()
            .map(|r| (r.contact().person_id().to_owned(), r.last_seen))
            .collect::<Vec<_>>()
    };
    let at0 = t(0).millis();
    assert_eq!(
        ids(&op),
        [("A".into(), at0), ("B".into(), at0), ("C".into(), at0)]
    );
    // B alone, later, with a new phone: still three residents, B's
    // sighting and details updated.
    file(&mut op, &manifest("S1", vec![member("B", "2")]), t(5));
    let at5 = t(5).millis();
    assert_eq!(
        ids(&op),
        [("A".into(), at0), ("B".into(), at5), ("C".into(), at0)]
    );
    assert_eq!(op.households[&HOME][1].contact().phone(), Some("2"));
}

#[test]
fn reserve_makes_room_for_the_households_to_come() {
    let mut op = HouseholdOp::default();
    op.reserve(10_000);
    let room = op.households.capacity();
    assert!(room >= 10_000, "room for {room}");
    for i in 0..10_000u128 {
        op.households.insert(i, Box::default());
    }
    assert_eq!(op.households.capacity(), room, "no regrowth");
}

/// Two different ids whose hashes agree are still two residents (the hash
/// only spares reading the others' manifests), and each is found again.
#[test]
fn ids_with_the_same_hash_are_still_told_apart() {
    let mut by_tag = std::collections::HashMap::new();
    let (a, b) = (0u32..)
        .find_map(|n| {
            let id = format!("ID{n}");
            let c = person(&id, "1");
            let tag = id_tag(c.parts());
            by_tag.insert(tag, id.clone()).map(|other| (other, id))
        })
        .expect("a collision of the short hashes");
    assert_ne!(a, b);
    let mut op = HouseholdOp::default();
    for (id, at) in [(&a, 0), (&b, 1), (&a, 2)] {
        exposures(&mut op, |op, ob| {
            op.on_resident(HOME, person(id, "1"), t(at), ob)
        });
    }
    let residents = &op.households[&HOME];
    let seen: Vec<_> = residents
        .iter()
        .map(|r| (r.contact().person_id().to_owned(), r.last_seen))
        .collect();
    assert_eq!(
        seen,
        [(a.clone(), t(2).millis()), (b.clone(), t(1).millis())]
    );
    assert_eq!(residents[0].tag(), residents[1].tag());
}

/// The first sighting keeps its UTC offset exactly, east and west, next to
/// the id's hash, and a new first sighting keeps the hash.
#[test]
fn a_resident_keeps_the_first_sightings_offset_beside_its_hash() {
    let contact = person("A", "1");
    let tag = id_tag(contact.parts());
    assert!(tag < 1 << TAG_BITS);
    let mut r = Resident::new(contact, tag, t(0), t(0).millis());
    for offset in [-86_399, -43_200, -1, 0, 1, 19_800, 8 * 3600, 86_399] {
        let at = Timestamp::from_millis(1_700_000_000_000 + i64::from(offset), offset);
        r.set_first_seen(at);
        assert_eq!(r.first_seen(), at, "offset {offset}");
        assert_eq!(r.first_seen().offset_secs(), offset);
        assert_eq!(r.tag(), tag, "offset {offset}");
    }
}

#[test]
fn two_households_sharing_an_index_key_are_told_apart() {
    // The spill index keeps low ^ high: 42 ^ 0 and 43 ^ 1 are both 42.
    const OTHER: HouseholdKey = (1 << 64) | 43;
    assert_ne!(HOME, OTHER);
    let mut op = HouseholdOp::default();
    op.attach_store(Box::<crate::spill::MemorySpill>::default());
    exposures(&mut op, |op, ob| {
        op.on_resident(HOME, person("a", "1"), t(0), ob);
        op.on_resident(OTHER, person("b", "2"), t(0), ob);
    });
    assert_eq!(
        op.spill(t(10).millis()),
        1,
        "whichever comes second stays in memory"
    );
    assert_eq!((op.spilled(), op.households.len()), (1, 1));
    assert_eq!(op.len(), 2);
    // Each comes back as itself: a positive at home exposes only a's
    // household (nobody else there), and b is still at OTHER.
    let told = exposures(&mut op, |op, ob| {
        op.on_resident(HOME, person("c", "3"), t(20), ob);
        op.on_positive(HOME, "c".into(), Some((t(20), "S1".into())), t(20), ob);
    });
    assert_eq!(told, sent(&[("a", Some("c"))]));
    let names = |k| -> Vec<String> {
        op.households[&k]
            .iter()
            .map(|r| r.contact().person_id().to_string())
            .collect()
    };
    assert_eq!(names(HOME), ["a", "c"]);
    assert_eq!(names(OTHER), ["b"]);
    assert!(op.take_spill_error().is_none());
}
