use super::*;

fn member(id: &str) -> Member {
    Member {
        person_id: id.into(),
        id_type: IdType::ResidentId,
        name: None,
        phone: None,
        address: None,
    }
}

fn full(i: usize) -> Member {
    Member {
        person_id: format!("11010519491231{i:04}").into(),
        id_type: match i % 3 {
            0 => IdType::ResidentId,
            1 => IdType::Passport,
            _ => IdType::Other,
        },
        name: Some(format!("李伟 {i} — a name longer than twenty-four bytes").into()),
        phone: Some(format!("1590000{i:04}").into()),
        address: Some(Address {
            compound: "阳光花园 Garden of the very long compound name".into(),
            building: format!("{}", i % 7).into(),
            unit: "2".into(),
            room: format!("{}", 300 + i).into(),
        }),
    }
}

fn manifest(members: Vec<Member>) -> Manifest {
    Manifest {
        tube_id: "P-0001".into(),
        kind: TubeKind::Pool,
        collected_at: Timestamp::from_millis(1_652_140_800_250, 8 * 3600),
        site_id: "SITE-1".into(),
        region: Region {
            district: "朝阳区".into(),
            street: "Nanhu".into(),
            community: "Yuanyi".into(),
        },
        members,
        retest_of: None,
        batch_id: None,
        design: None,
        pool_index: None,
    }
}

fn round_trip(m: &Manifest) -> PackedManifest {
    let p = PackedManifest::pack(m);
    assert_eq!(p.unpack().as_ref(), Ok(m));
    p
}

#[test]
fn every_field_round_trips() {
    let mut m = manifest((0..20).map(full).collect());
    m.retest_of = Some("P-0000".into());
    m.batch_id = Some("B1".into());
    m.design = Some("array-8x12".into());
    m.pool_index = Some(u32::MAX);
    let p = round_trip(&m);
    let v = p.view().unwrap();
    assert_eq!(v.tube_id, "P-0001");
    assert_eq!(v.kind, TubeKind::Pool);
    assert_eq!(v.collected_at, m.collected_at);
    assert_eq!(v.site_id, "SITE-1");
    assert_eq!(v.retest_of, Some("P-0000"));
    assert_eq!(v.batch_id, Some("B1"));
    assert_eq!(v.design, Some("array-8x12"));
    assert_eq!(v.pool_index, Some(u32::MAX));
    assert_eq!(v.region, ["朝阳区", "Nanhu", "Yuanyi"]);
    assert_eq!(v.member_count, 20);
    let members: Vec<Member> = p
        .members()
        .map(|at| p.member_at(at).unwrap().to_member())
        .collect();
    assert_eq!(members, m.members);
    for at in p.members() {
        let v = p.member_at(at).unwrap();
        assert_eq!(p.person_id_at(at), Ok(v.person_id));
        assert_eq!(p.person_id_bytes_at(at), Ok(v.person_id.as_bytes()));
        assert_eq!(p.member_end(at), Ok(v.end));
    }
}

#[test]
fn absent_optionals_round_trip() {
    for kind in [TubeKind::Single, TubeKind::Household, TubeKind::Pool] {
        let mut m = manifest(vec![member("E12345678")]);
        m.kind = kind;
        m.pool_index = None;
        let p = round_trip(&m);
        let v = p.view().unwrap();
        assert_eq!(
            (v.retest_of, v.batch_id, v.design, v.pool_index),
            (None, None, None, None)
        );
        let only = p.member_at(p.members().next().unwrap()).unwrap();
        assert_eq!((only.name, only.phone, only.address), (None, None, None));
    }
    // Each optional alone, and a member with some details only.
    let mut m = manifest(vec![Member {
        phone: Some("15900000001".into()),
        ..member("E1")
    }]);
    m.pool_index = Some(0);
    m.batch_id = Some("B".into());
    round_trip(&m);
    m.collected_at = Timestamp::from_millis(-1, -5 * 3600);
    m.members[0].name = Some(String::new().into());
    round_trip(&m);
    // No members at all, and empty strings everywhere.
    let mut m = manifest(vec![]);
    m.tube_id = String::new();
    m.region.street = String::new();
    round_trip(&m);
}

#[test]
fn long_strings_take_multi_byte_lengths() {
    let long = "长".repeat(100); // 300 bytes: a two-byte length
    let mut m = manifest(vec![Member {
        name: Some(long.as_str().into()),
        ..member("X")
    }]);
    m.site_id = "s".repeat(20_000); // a three-byte length
    let p = round_trip(&m);
    let only = p.member_at(p.members().next().unwrap()).unwrap();
    assert_eq!(only.name, Some(long.as_str()));
}

#[test]
fn equal_values_pack_to_equal_bytes() {
    let a = PackedManifest::pack(&manifest((0..3).map(full).collect()));
    let b = PackedManifest::pack(&manifest((0..3).map(full).collect()));
    assert_eq!(a, b);
    let mut changed = manifest((0..3).map(full).collect());
    changed.members[2].phone = None;
    let c = PackedManifest::pack(&changed);
    assert_ne!(a, c);
    let at = |p: &PackedManifest, i| p.members().nth(i).unwrap();
    assert_eq!(a.member_bytes(at(&a, 1)), c.member_bytes(at(&c, 1)));
    assert_ne!(a.member_bytes(at(&a, 2)), c.member_bytes(at(&c, 2)));
    assert_eq!(a.region_bytes(), c.region_bytes());
}

#[test]
fn a_contact_packs_its_member_and_region_only() {
    let m = manifest((0..20).map(full).collect());
    let p = PackedManifest::pack_contact(&m.members[7], &m.region);
    let v = p.view().unwrap();
    assert_eq!((v.tube_id, v.site_id, v.kind), ("", "", TubeKind::Single));
    assert_eq!(v.region, ["朝阳区", "Nanhu", "Yuanyi"]);
    let only: Vec<Member> = p
        .members()
        .map(|at| p.member_at(at).unwrap().to_member())
        .collect();
    assert_eq!(only, vec![m.members[7].clone()]);
    assert!(p.as_bytes().len() < PackedManifest::pack(&m).as_bytes().len() / 10);
}

#[test]
fn damaged_bytes_are_errors_not_panics() {
    let p = PackedManifest::pack(&manifest((0..3).map(full).collect()));
    let bytes = p.as_bytes();
    for len in 0..bytes.len() {
        let cut = PackedManifest(bytes[..len].into());
        assert!(cut.unpack().is_err(), "cut at {len}");
        let _ = cut.members().count();
    }
    let mut bad = bytes.to_vec();
    bad[KIND_AT] = 9;
    assert!(matches!(
        PackedManifest(bad.into()).view(),
        Err(PackError::BadTag { what: "kind", .. })
    ));
    let first = p.view().unwrap().first_member;
    let mut bad = bytes.to_vec();
    bad[first] = ID_TYPE;
    assert!(matches!(
        PackedManifest(bad.into()).member_at(first),
        Err(PackError::BadTag { what: "member", .. })
    ));
    let mut bad = bytes.to_vec();
    bad[first + 2] = 0xff; // inside the first person id
    assert!(matches!(
        PackedManifest(bad.into()).unpack(),
        Err(PackError::Utf8 { .. })
    ));
}

#[test]
fn serde_form_is_the_bytes_in_binary_and_the_manifest_in_json() {
    let mut m = manifest((0..4).map(full).collect());
    m.members.push(member("E2"));
    let p = PackedManifest::pack(&m);
    let bin = rmp_serde::to_vec_named(&p).unwrap();
    assert!(
        bin.ends_with(p.as_bytes()),
        "a MessagePack bin of the bytes"
    );
    assert!(bin.len() <= p.as_bytes().len() + 5);
    let back: PackedManifest = rmp_serde::from_slice(&bin).unwrap();
    assert_eq!(back, p);
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        serde_json::to_value(&m).unwrap()
    );
    let back: PackedManifest = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn bytes_from_outside_are_checked() {
    let p = PackedManifest::pack(&manifest((0..3).map(full).collect()));
    let bytes = p.as_bytes();
    assert_eq!(PackedManifest::from_bytes(bytes.to_vec()).unwrap(), p);
    for len in 0..bytes.len() {
        assert!(
            PackedManifest::from_bytes(bytes[..len].to_vec()).is_err(),
            "cut at {len}"
        );
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(
        PackedManifest::from_bytes(longer).is_err(),
        "a byte after the end"
    );
    let first = p.view().unwrap().first_member;
    let mut bad = bytes.to_vec();
    bad[first] |= 0x80;
    assert!(matches!(
        PackedManifest::from_bytes(bad),
        Err(PackError::BadTag { what: "member", .. })
    ));
    // The first member cannot refer to an earlier address.
    for reference in [SAME_ADDRESS, SAME_UNIT, SAME_ADDRESS | SAME_UNIT] {
        let mut bad = bytes.to_vec();
        bad[first] |= reference;
        assert!(PackedManifest::from_bytes(bad).is_err(), "{reference}");
    }
    let mut bad = bytes.to_vec();
    bad[KIND_AT + 1] = 0x20;
    assert!(matches!(
        PackedManifest::from_bytes(bad),
        Err(PackError::BadTag { what: "flags", .. })
    ));
    let mut bad = bytes.to_vec();
    bad[first + 2] = 0xff; // inside the first person id
    assert!(matches!(
        PackedManifest::from_bytes(bad),
        Err(PackError::Utf8 { .. })
    ));
    // Region offset moved by one: the strings no longer meet.
    let mut bad = bytes.to_vec();
    let region_at = u32::from_le_bytes(bad[0..4].try_into().unwrap()) + 1;
    bad[0..4].copy_from_slice(&region_at.to_le_bytes());
    assert!(PackedManifest::from_bytes(bad).is_err());
}

#[test]
fn a_contact_from_its_parts_is_the_packed_contact() {
    let m = manifest((0..3).map(full).collect());
    let p = PackedManifest::pack(&m);
    for (i, at) in p.members().enumerate() {
        let c = PackedManifest::contact_from_parts(
            p.region_bytes().unwrap(),
            &p.member_bytes(at).unwrap(),
        )
        .unwrap();
        assert_eq!(c, PackedManifest::pack_contact(&m.members[i], &m.region));
    }
    let member = p.member_bytes(p.view().unwrap().first_member).unwrap();
    let region = p.region_bytes().unwrap();
    assert!(PackedManifest::contact_from_parts(&region[1..], &member).is_err());
    assert!(PackedManifest::contact_from_parts(region, &member[..member.len() - 1]).is_err());
}

/// A member at `compound`/`building`/`unit`/`room`.
fn living_at(i: usize, building: &str, room: &str) -> Member {
    Member {
        address: Some(Address {
            compound: "Shenghai Garden".into(),
            building: building.into(),
            unit: "Unit 1".into(),
            room: room.into(),
        }),
        ..full(i)
    }
}

/// Tag bytes of every member, in order.
fn member_tags(p: &PackedManifest) -> Vec<u8> {
    p.members().map(|at| p.as_bytes()[at]).collect()
}

#[test]
fn members_sharing_an_address_refer_to_the_latest_written_in_full() {
    let no_address = Member {
        address: None,
        ..full(5)
    };
    let m = manifest(vec![
        living_at(0, "Building 5", "903"),
        living_at(1, "Building 5", "903"), // same household
        living_at(2, "Building 5", "904"), // same unit, next room
        living_at(3, "Building 5", "904"),
        living_at(4, "Building 6", "101"), // next building: in full
        no_address,
        living_at(6, "Building 6", "101"),
        living_at(7, "Building 5", "903"), // not the latest in full: in full
    ]);
    let p = round_trip(&m);
    let id = |i: usize| (i % 3) as u8;
    let t = NAME | PHONE | ADDRESS;
    assert_eq!(
        member_tags(&p),
        [
            t | id(0),
            t | id(1) | SAME_ADDRESS,
            t | id(2) | SAME_UNIT,
            t | id(3) | SAME_UNIT,
            t | id(4),
            NAME | PHONE | id(5),
            t | id(6) | SAME_ADDRESS,
            t | id(7),
        ]
    );
    // A member of a household costs its own strings and one byte.
    let ats: Vec<usize> = p.members().collect();
    let own = |i: usize| {
        let x = &m.members[i];
        1 + str_len(&x.person_id)
            + str_len(x.name.as_deref().unwrap())
            + str_len(x.phone.as_deref().unwrap())
    };
    assert_eq!(ats[2] - ats[1], own(1) + 1);
    assert_eq!(ats[3] - ats[2], own(2) + 1 + str_len("904"));
    // Each member reads back whole, and its standalone bytes are those of
    // the member packed alone: a contact made from them is the same.
    for (i, &at) in ats.iter().enumerate() {
        assert_eq!(p.member_at(at).unwrap().to_member(), m.members[i]);
        let alone = PackedManifest::pack_contact(&m.members[i], &m.region);
        let first = alone.view().unwrap().first_member;
        assert_eq!(
            &*p.member_bytes(at).unwrap(),
            &*alone.member_bytes(first).unwrap(),
            "member {i}"
        );
        let c = PackedManifest::contact_from_parts(
            p.region_bytes().unwrap(),
            &p.member_bytes(at).unwrap(),
        )
        .unwrap();
        assert_eq!(c, alone);
    }
    assert_eq!(PackedManifest::from_bytes(p.as_bytes().to_vec()), Ok(p));
}

#[test]
fn bytes_the_writer_would_not_make_are_packed_again_and_bad_references_refused() {
    // Member 2 has member 0's address, but member 1's is the latest in
    // full: the writer writes member 2's in full. The same manifest with
    // member 2 referring to member 0's address reads back the same
    // values but is not canonical: it is packed again.
    let m = manifest(vec![
        living_at(0, "Building 5", "903"),
        living_at(1, "Building 6", "101"),
        living_at(2, "Building 5", "903"),
    ]);
    let p = PackedManifest::pack(&m);
    let ats: Vec<usize> = p.members().collect();
    assert!(member_tags(&p)
        .iter()
        .all(|t| t & (SAME_ADDRESS | SAME_UNIT) == 0));
    let address_of = |at: usize| {
        let x = &m.members[(ats.iter().position(|a| *a == at)).unwrap()];
        at + 1
            + str_len(&x.person_id)
            + str_len(x.name.as_deref().unwrap())
            + str_len(x.phone.as_deref().unwrap())
    };
    let mut forged = p.as_bytes()[..address_of(ats[2])].to_vec();
    forged[ats[2]] |= SAME_ADDRESS;
    put_len(&mut forged, ats[2] - address_of(ats[0]));
    assert_eq!(PackedManifest::from_bytes(forged).as_ref(), Ok(&p));
    // So is a manifest as versions before references wrote it: every
    // address in full.
    let mut households = manifest(vec![
        living_at(0, "Building 5", "903"),
        living_at(1, "Building 5", "903"),
        living_at(2, "Building 5", "904"),
    ]);
    let canonical = PackedManifest::pack(&households);
    let first = canonical.view().unwrap().first_member;
    let mut old = canonical.as_bytes()[..first].to_vec();
    for x in &households.members {
        let alone = PackedManifest::pack_contact(x, &households.region);
        let at = alone.view().unwrap().first_member;
        old.extend_from_slice(&alone.as_bytes()[at..]);
    }
    assert!(old.len() > canonical.as_bytes().len());
    let again = PackedManifest::from_bytes(old).unwrap();
    assert_eq!(again, canonical);
    assert_eq!(again.unpack().unwrap(), households);
    households.members.truncate(1);
    assert!(member_tags(&PackedManifest::pack(&households))
        .iter()
        .all(|t| t & (SAME_ADDRESS | SAME_UNIT) == 0));
    // A reference past the member itself, or to no address, is refused.
    let mut forward = p.as_bytes()[..address_of(ats[1])].to_vec();
    forward[ats[1]] |= SAME_ADDRESS;
    put_len(&mut forward, 0);
    assert!(PackedManifest::from_bytes(forward).is_err());
    let alone = PackedManifest::pack_contact(&m.members[0], &m.region);
    let first = alone.view().unwrap().first_member;
    let mut dangling = alone.as_bytes()[..address_of_alone(&alone, &m.members[0])].to_vec();
    dangling[first] |= SAME_UNIT;
    put_len(&mut dangling, 3);
    put_str(&mut dangling, "903");
    assert!(PackedManifest::from_bytes(dangling).is_err());
}

/// Where the address of a one-member packed contact starts.
fn address_of_alone(p: &PackedManifest, x: &Member) -> usize {
    p.view().unwrap().first_member
        + 1
        + str_len(&x.person_id)
        + str_len(x.name.as_deref().unwrap())
        + str_len(x.phone.as_deref().unwrap())
}

/// The members are found from the header's offset alone where the full
/// view finds them, for any number of members, with and without the
/// optional strings before them.
#[test]
fn the_first_member_is_where_the_view_says() {
    for n in [1, 2, 10, 20] {
        for with_optionals in [false, true] {
            let mut m = manifest((0..n).map(full).collect());
            if with_optionals {
                m.kind = TubeKind::Single;
                m.retest_of = Some("P-0000".into());
                m.batch_id = Some("B-1 with a long name".into());
                m.design = Some("shifted-transversal".into());
                m.pool_index = Some(7);
            }
            let p = PackedManifest::pack(&m);
            let v = p.view().unwrap();
            assert_eq!(p.first_member().unwrap(), (v.first_member, v.member_count));
            assert_eq!(p.members().count(), n);
        }
    }
}
