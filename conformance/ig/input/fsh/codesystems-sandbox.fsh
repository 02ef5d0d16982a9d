// The sandbox's own code systems: content complete. Canonicals under https://sandkasse.no/fhir/CodeSystem/.

RuleSet: SandboxCodeSystem
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete

CodeSystem: News2
Id: news2
Title: "NEWS2 concepts"
Description: "The concepts of the National Early Warning Score 2 (Royal College of Physicians, 2017) that have no code in the code systems shipped offline: the total, the seven parameter scores, supplemental oxygen, consciousness, pulse regularity and the SpO2 scale."
* insert SandboxCodeSystem
* #total "NEWS2 total score" "The aggregate NEWS2 score (0–20): the sum of the seven parameter scores."
* #respiratory-rate-score "NEWS2 respiratory rate score" "The NEWS2 score (0–3) for the respiratory rate."
* #spo2-score "NEWS2 SpO2 score" "The NEWS2 score (0–3) for the oxygen saturation, on scale 1 or scale 2."
* #air-or-oxygen-score "NEWS2 air or oxygen score" "The NEWS2 score (0 or 2) for breathing air or receiving supplemental oxygen."
* #systolic-bp-score "NEWS2 systolic blood pressure score" "The NEWS2 score (0–3) for the systolic blood pressure."
* #pulse-score "NEWS2 pulse score" "The NEWS2 score (0–3) for the pulse."
* #consciousness-score "NEWS2 consciousness score" "The NEWS2 score (0 or 3) for the level of consciousness (ACVPU)."
* #temperature-score "NEWS2 temperature score" "The NEWS2 score (0–3) for the temperature."
* #air-or-oxygen "Air or supplemental oxygen" "Whether the patient breathes room air or receives supplemental oxygen (tilførsel av oksygen)."
* #air "Air" "Breathing room air."
* #oxygen "Supplemental oxygen" "Receiving supplemental oxygen."
* #consciousness "Level of consciousness" "Level of consciousness on the ACVPU scale (bevissthetsnivå)."
* #pulse-regularity "Pulse regularity" "Whether the pulse is regular or irregular."
* #regular "Regular" "The pulse is regular."
* #irregular "Irregular" "The pulse is irregular."
* #spo2-scale "SpO2 scale" "The NEWS2 SpO2 scale used: 1 (most patients) or 2 (confirmed hypercapnic respiratory failure, e.g. KOLS)."

CodeSystem: Acvpu
Id: acvpu
Title: "ACVPU"
Description: "Level of consciousness in NEWS2: Alert, new Confusion, responds to Voice, responds to Pain, Unresponsive."
* insert SandboxCodeSystem
* #A "Alert" "The patient is fully awake."
* #C "New confusion" "New-onset or worsening confusion, delirium or disorientation."
* #V "Voice" "The patient responds to voice."
* #P "Pain" "The patient responds to pain."
* #U "Unresponsive" "The patient does not respond to voice or pain."

// The national municipal health and care service types as reported to KPR (Kommunalt pasient- og
// brukerregister, formerly IPLOS), by their KPR/IPLOS tjenestetype numbers. The official code list's
// URI is not published, so this sandbox code system stands in for it; when it is, replace the system.
// Kept identical to synthetic_data/data/kpr_tjenestetyper.csv (tests/ig checks it).
CodeSystem: KprTjenestetype
Id: kpr-tjenestetype
Title: "KPR tjenestetype (sandbox)"
Description: "National service types of municipal health and care services, as reported to KPR (Kommunalt pasient- og brukerregister, formerly IPLOS). Sandbox code system standing in for the KPR code list, whose official URI is not published."
* insert SandboxCodeSystem
* #11 "Praktisk bistand - daglige gjøremål"
* #12 "Praktisk bistand - opplæring - daglige gjøremål"
* #13 "Praktisk bistand - brukerstyrt personlig assistanse"
* #14 "Dagaktivitetstilbud"
* #15 "Matombringing"
* #16 "Trygghetsalarm"
* #17 "Støttekontakt"
* #18 "Avlastning - utenfor institusjon"
* #19 "Omsorgsstønad"
* #22 "Tidsbegrenset opphold i institusjon - utredning/behandling"
* #23 "Tidsbegrenset opphold i institusjon - habilitering/rehabilitering"
* #24 "Tidsbegrenset opphold i institusjon - annet"
* #25 "Tidsbegrenset opphold i institusjon - avlastning"
* #26 "Langtidsopphold i institusjon"
* #27 "Helsetjenester i hjemmet"
* #28 "Habilitering/rehabilitering utenfor institusjon"
* #29 "Bolig som kommunen disponerer for helse- og omsorgsformål"
* #30 "Individuell plan"
* #31 "Koordinator"
* #32 "Kommunalt døgnopphold for øyeblikkelig hjelp"
* #33 "Helsestasjons- og skolehelsetjeneste"

CodeSystem: SykepleieProblemomrade
Id: sykepleie-problemomrade
Title: "Sykepleie problemområde (nursing problem areas)"
Description: "The problem areas of a municipal care/treatment plan (pleie- og behandlingsplan), from the information elements D7–D35 of the Felles journalløft information model."
* insert SandboxCodeSystem
* #bevegelse-fysisk-funksjon "Bevegelse / fysisk funksjon" "Mobility and physical function."
* #boforhold "Boforhold" "Living conditions and housing."
* #brukermedvirkning "Brukermedvirkning" "User participation."
* #eliminasjon "Eliminasjon" "Elimination."
* #hud-vev "Hud / vev" "Skin and tissue, including wounds."
* #kommunikasjonsevne "Kommunikasjonsevne" "Ability to communicate."
* #livssyn-andelige-behov "Livssyn / åndelige behov" "Beliefs and spiritual needs."
* #medisinsk-oppfolging "Medisinsk oppfølging" "Medical follow-up."
* #miljobehandling "Miljøbehandling" "Milieu therapy."
* #personlig-hygiene "Personlig hygiene" "Personal hygiene."
* #psykisk-kognitiv-funksjon "Psykisk / kognitiv funksjon" "Mental and cognitive function."
* #respirasjon "Respirasjon" "Respiration."
* #samfunnsdeltakelse "Samfunnsdeltakelse" "Social participation."
* #samhandling "Samhandling" "Collaboration and coordination."
* #sanser "Sanser" "Senses."
* #seksualitet "Seksualitet" "Sexuality."
* #sirkulasjon "Sirkulasjon" "Circulation."
* #smerter "Smerter" "Pain."
* #sosiale-forhold "Sosiale forhold" "Social circumstances."
* #sovn-hvile "Søvn / hvile" "Sleep and rest."
* #tvang-makt "Tvang / makt" "Coercion and use of force."
* #vaeske-ernaering "Væske / ernæring" "Fluids and nutrition."
* #okonomi "Økonomi" "Finances."
* #kommunikasjon "Kommunikasjon" "Communication."
* #motorisk-utvikling "Motorisk utvikling" "Motor development (child health)."
* #helseundersokelse "Helseundersøkelse" "Health examination (child and school health)."
* #utvikling "Utvikling" "Development (child health)."
* #helsekort "Helsekort" "Health card (e.g. helsekort for gravide)."

CodeSystem: IplosFunksjon
Id: iplos-funksjon
Title: "IPLOS funksjonsvariabler"
Description: "The IPLOS/KPR functional variables (ADL) a municipality assesses; each is scored 1–5 (1 = manages without help, 5 = fully dependent) or 9 (not relevant)."
* insert SandboxCodeSystem
* #alminnelig-husarbeid "Alminnelig husarbeid" "Ordinary housework."
* #skaffe-seg-varer-og-tjenester "Skaffe seg varer og tjenester" "Obtaining goods and services."
* #personlig-hygiene "Personlig hygiene" "Personal hygiene."
* #av-og-pakledning "Av- og påkledning" "Dressing and undressing."
* #lage-mat "Lage mat" "Preparing food."
* #spise "Spise" "Eating."
* #ivareta-egen-helse "Ivareta egen helse" "Looking after one's own health."
* #toalett "Toalett" "Toileting."
* #bevege-seg-innendors "Bevege seg innendørs" "Moving around indoors."
* #bevege-seg-utendors "Bevege seg utendørs" "Moving around outdoors."
* #sosial-deltakelse "Sosial deltakelse" "Social participation."
* #beslutninger-i-dagliglivet "Beslutninger i dagliglivet" "Making decisions in daily life."
* #styre-atferd "Styre atferd" "Controlling one's behaviour."
* #hukommelse "Hukommelse" "Memory."
* #kommunikasjon "Kommunikasjon" "Communication."
* #syn "Syn" "Vision."
* #horsel "Hørsel" "Hearing."

CodeSystem: KritiskInformasjon
Id: kritisk-informasjon
Title: "Kritisk informasjon (critical information)"
Description: "Kinds of critical information (kritisk informasjon), shaped after the categories of Kjernejournal's critical information."
* insert SandboxCodeSystem
* #kritisk-allergi "Kritisk allergi" "A serious allergy or reaction, e.g. anaphylaxis to a medicinal product."
* #kritisk-tilstand "Kritisk sykdom eller tilstand" "A disease or condition critical to know at first contact (e.g. a rare disease)."
* #pagaende-behandling "Pågående behandling" "Ongoing treatment critical to know (e.g. dialysis, anticoagulation)."
* #implantat "Implantat" "An implant critical to know (e.g. a pacemaker)."
* #avvik-standard-behandling "Avvik fra standard behandling" "A deviation from standard treatment the patient has decided (e.g. declining blood transfusion)."
* #behandlingsbegrensning "Behandlingsbegrensning" "A limitation of treatment, e.g. HLR minus (not for resuscitation); the decision itself is a Consent (advance directive)."
* #smittefare "Smittefare" "Risk of infection to others."
* #vold-trusler "Vold og trusler" "History of violence and threats towards personnel."

CodeSystem: Sperretype
Id: sperretype
Title: "Sperretype (kinds of blocks)"
Description: "What a patient's block (sperring) is about (Consent.provision.code): a named party, an organisation, or information."
* insert SandboxCodeSystem
* #helsepersonell "Sperring mot helsepersonell" "A named health professional may not see the patient's data."
* #virksomhet "Sperring mot virksomhet" "A named organisation may not see the patient's data."
* #opplysninger "Sperring av opplysninger" "Named information (by class or resource) is not to be shared."

CodeSystem: Organisasjonstype
Id: organisasjonstype
Title: "Organisasjonstype (kinds of municipal organisations and service units)"
Description: "The kind of a municipal organisation or service unit (tjenestested)."
* insert SandboxCodeSystem
* #kommune "Kommune" "The municipality as a legal entity."
* #tildelingskontor "Tildelingskontor" "The office that allocates services and makes vedtak."
* #hjemmesykepleie "Hjemmesykepleie" "Home nursing (a zone or district)."
* #sykehjem "Sykehjem" "Nursing home."
* #korttidsavdeling "Korttidsavdeling" "Short-term ward."
* #kad "Kommunal akutt døgnenhet (KAD)" "Municipal acute 24-hour unit (KAD/ØHD)."
* #legevakt "Legevakt" "Out-of-hours emergency clinic."
* #helsestasjon "Helsestasjon" "Child health clinic and school health service."
* #legekontor "Legekontor" "GP office (fastlegekontor)."
* #dagsenter "Dagsenter" "Day centre."
* #omsorgsbolig "Omsorgsbolig" "Care housing with services."
