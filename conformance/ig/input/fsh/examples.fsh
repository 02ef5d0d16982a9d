// Example instances: at least one valid instance per profile. Synthetic data only: the
// fødselsnummer use month + 80 (Tenor) with valid mod-11 check digits, organisation numbers are
// in the 3xxxxxxxx test range with a valid mod-11 digit, and every person is invented.

Instance: kari-nordmann
InstanceOf: SkPatient
Title: "Kari Nordmann (synthetic)"
Description: "A home-nursing patient in Oslo with heart failure. Fødselsnummer 13834106838: born 13 March 1941, month + 80."
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Kari Nordmann (synthetic)</p></div>"
* identifier[fnr].system = "urn:oid:2.16.578.1.12.4.1.4.1"
* identifier[fnr].value = "13834106838"
* active = true
* name.family = "Nordmann"
* name.given = "Kari"
* telecom.system = #phone
* telecom.value = "+4799999901"
* gender = #female
* birthDate = "1941-03-13"
* address.use = #home
* address.line = "Sandakerveien 12"
* address.postalCode = "0464"
* address.city = "OSLO"
* address.district = "Oslo"
* address.district.extension[municipalitycode].valueCoding = $kommunenummer#0301 "Oslo"
* address.country = "NO"
* communication.language = urn:ietf:bcp:47#nb "Norwegian Bokmål"
* managingOrganization = Reference(oslo-kommune)

Instance: oslo-kommune
InstanceOf: SkOrganization
Title: "Oslo kommune (synthetic numbers)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Oslo kommune (synthetic numbers)</p></div>"
* identifier[orgnr].system = "urn:oid:2.16.578.1.12.4.1.4.101"
* identifier[orgnr].value = "310900001"
* active = true
* type = https://sandkasse.no/fhir/CodeSystem/organisasjonstype#kommune "Kommune"
* name = "Oslo kommune"
* address.district = "Oslo"
* address.district.extension[municipalitycode].valueCoding = $kommunenummer#0301 "Oslo"
* address.country = "NO"

Instance: hjemmesykepleien-sagene
InstanceOf: SkOrganization
Title: "Hjemmesykepleien Sagene (tjenestested)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Hjemmesykepleien Sagene (tjenestested)</p></div>"
* identifier[orgnr].system = "urn:oid:2.16.578.1.12.4.1.4.101"
* identifier[orgnr].value = "310900028"
* identifier[her].system = "urn:oid:2.16.578.1.12.4.1.2"
* identifier[her].value = "9900001"
* active = true
* type = https://sandkasse.no/fhir/CodeSystem/organisasjonstype#hjemmesykepleie "Hjemmesykepleie"
* name = "Hjemmesykepleien Sagene"
* partOf = Reference(oslo-kommune)

Instance: sykepleier-hansen
InstanceOf: SkPractitioner
Title: "Ingrid Hansen, sykepleier (synthetic)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Ingrid Hansen, sykepleier (synthetic)</p></div>"
* identifier[hpr].system = "urn:oid:2.16.578.1.12.4.1.4.4"
* identifier[hpr].value = "990000001"
* name.family = "Hansen"
* name.given = "Ingrid"

Instance: lege-berg
InstanceOf: SkPractitioner
Title: "Per Berg, lege (synthetic)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Per Berg, lege (synthetic)</p></div>"
* identifier[hpr].system = "urn:oid:2.16.578.1.12.4.1.4.4"
* identifier[hpr].value = "990000002"
* name.family = "Berg"
* name.given = "Per"

Instance: sykepleier-hansen-sagene
InstanceOf: SkPractitionerRole
Title: "Ingrid Hansen as sykepleier in Hjemmesykepleien Sagene"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Ingrid Hansen as sykepleier in Hjemmesykepleien Sagene</p></div>"
* active = true
* practitioner = Reference(sykepleier-hansen)
* organization = Reference(hjemmesykepleien-sagene)
* code = urn:oid:2.16.578.1.12.4.1.1.9060#SP "Sykepleier"

Instance: vedtak-hjemmesykepleie
InstanceOf: SkKommunalTjeneste
Title: "Vedtak: helsetjenester i hjemmet"
Description: "Kari Nordmann's decided home nursing: 5.5 hours a week from 1 September 2025, review 1 March 2026."
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Vedtak: helsetjenester i hjemmet</p></div>"
* extension[vedtakstimer].valueQuantity = 5.5 'h/wk' "timer per uke"
* extension[revurderingsdato].valueDate = "2026-03-01"
* extension[vedtakstekst].valueString = "Hjelp til medisinutlevering morgen og kveld, og til personlig hygiene."
* identifier.system = "https://sandkasse.no/fhir/sid/vedtak/0301"
* identifier.value = "2025-000123"
* status = #active
* type.coding[kpr] = $kpr#27 "Helsetjenester i hjemmet"
* type.coding[1] = $lokal0301#HSP "Hjemmesykepleie"
* type.text = "Hjemmesykepleie"
* patient = Reference(kari-nordmann)
* managingOrganization = Reference(hjemmesykepleien-sagene)
* period.start = "2025-09-01"
* careManager = Reference(sykepleier-hansen)

Instance: news2-rr
InstanceOf: SkNews2RespiratoryRate
Title: "NEWS2: respirasjonsfrekvens 22/min"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: respirasjonsfrekvens 22/min</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $loinc#9279-1 "Respiratory rate"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueQuantity = 22 '/min' "/min"

Instance: news2-spo2
InstanceOf: SkNews2OxygenSaturation
Title: "NEWS2: SpO2 95 %, scale 1"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: SpO2 95 %, scale 1</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $loinc#59408-5 "Oxygen saturation in Arterial blood by Pulse oximetry"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueQuantity = 95 '%' "%"
* component[scale].code = $news2#spo2-scale
* component[scale].valueInteger = 1

Instance: news2-o2
InstanceOf: SkNews2SupplementalOxygen
Title: "NEWS2: room air"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: room air</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $news2#air-or-oxygen "Air or supplemental oxygen"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueCodeableConcept = $news2#air "Air"

Instance: news2-pulse
InstanceOf: SkNews2HeartRate
Title: "NEWS2: puls 96/min, irregular"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: puls 96/min, irregular</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $loinc#8867-4 "Heart rate"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueQuantity = 96 '/min' "/min"
* component[regularity].code = $news2#pulse-regularity
* component[regularity].valueCodeableConcept = $news2#irregular "Irregular"

Instance: news2-bp
InstanceOf: SkNews2BloodPressure
Title: "NEWS2: blodtrykk 105/70"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: blodtrykk 105/70</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $loinc#85354-9 "Blood pressure panel with all children optional"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* component[systolic].code = $loinc#8480-6 "Systolic blood pressure"
* component[systolic].valueQuantity = 105 'mm[Hg]' "mmHg"
* component[diastolic].code = $loinc#8462-4 "Diastolic blood pressure"
* component[diastolic].valueQuantity = 70 'mm[Hg]' "mmHg"

Instance: news2-acvpu
InstanceOf: SkNews2Consciousness
Title: "NEWS2: alert"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: alert</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $news2#consciousness "Level of consciousness"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueCodeableConcept = $acvpu#A "Alert"

Instance: news2-temp
InstanceOf: SkNews2BodyTemperature
Title: "NEWS2: temperatur 38.4 °C"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2: temperatur 38.4 °C</p></div>"
* status = #final
* category[VSCat] = $obscat#vital-signs
* code = $loinc#8310-5 "Body temperature"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueQuantity = 38.4 'Cel' "°C"

Instance: news2-score
InstanceOf: SkNews2Score
Title: "NEWS2 score 6 (medium)"
Description: "RR 22 → 2, SpO2 95 % scale 1 → 1, air → 0, systolic 105 → 1, pulse 96 → 1, A → 0, 38.4 °C → 1: total 6."
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: NEWS2 score 6 (medium)</p></div>"
* status = #final
* category[survey] = $obscat#survey
* code = $news2#total "NEWS2 total score"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-11-03T08:15:00+01:00"
* performer = Reference(sykepleier-hansen)
* valueInteger = 6
* component[respiratoryRate].code = $news2#respiratory-rate-score
* component[respiratoryRate].valueInteger = 2
* component[spo2].code = $news2#spo2-score
* component[spo2].valueInteger = 1
* component[airOrOxygen].code = $news2#air-or-oxygen-score
* component[airOrOxygen].valueInteger = 0
* component[systolicBp].code = $news2#systolic-bp-score
* component[systolicBp].valueInteger = 1
* component[pulse].code = $news2#pulse-score
* component[pulse].valueInteger = 1
* component[consciousness].code = $news2#consciousness-score
* component[consciousness].valueInteger = 0
* component[temperature].code = $news2#temperature-score
* component[temperature].valueInteger = 1
* derivedFrom[0] = Reference(news2-rr)
* derivedFrom[+] = Reference(news2-spo2)
* derivedFrom[+] = Reference(news2-o2)
* derivedFrom[+] = Reference(news2-bp)
* derivedFrom[+] = Reference(news2-pulse)
* derivedFrom[+] = Reference(news2-acvpu)
* derivedFrom[+] = Reference(news2-temp)

Instance: hjertesvikt
InstanceOf: SkCondition
Title: "Hjertesvikt (ICPC-2 K77)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Hjertesvikt (ICPC-2 K77)</p></div>"
* clinicalStatus = $clinicalstatus#active
* verificationStatus = $verstatus#confirmed
* category = $conditioncat#problem-list-item
* code = $icpc2#K77 "Hjertesvikt"
* subject = Reference(kari-nordmann)
* onsetDateTime = "2019-05-14"
* recordedDate = "2019-05-14"
* recorder = Reference(lege-berg)

Instance: penicillinallergi
InstanceOf: SkAllergyIntolerance
Title: "Penicillinallergi (high criticality)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Penicillinallergi (high criticality)</p></div>"
* clinicalStatus = $allergyclinical#active
* verificationStatus = http://terminology.hl7.org/CodeSystem/allergyintolerance-verification#confirmed
* type = #allergy
* category = #medication
* criticality = #high
* code = $sct#91936005 "Allergy to penicillin"
* patient = Reference(kari-nordmann)
* recordedDate = "2010-02-01"
* reaction.substance = $sct#764146007 "Penicillin"
* reaction.manifestation = $sct#39579001 "Anaphylaxis"
* reaction.severity = #severe

Instance: kritisk-penicillin
InstanceOf: SkCriticalInformation
Title: "Kritisk informasjon: alvorlig allergi"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Kritisk informasjon: alvorlig allergi</p></div>"
* status = #active
* category = $flagcat#clinical "Clinical"
* code = $kritisk#kritisk-allergi "Kritisk allergi"
* code.text = "Anafylaksi på penicillin"
* subject = Reference(kari-nordmann)
* period.start = "2010-02-01"
* author = Reference(lege-berg)

Instance: furosemid
InstanceOf: SkMedicationStatement
Title: "Furosemid for hjertesvikt"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Furosemid for hjertesvikt</p></div>"
* status = #active
* medicationCodeableConcept = $atc#C03CA01 "Furosemid"
* subject = Reference(kari-nordmann)
* effectivePeriod.start = "2019-05-14"
* dateAsserted = "2025-11-03"
* informationSource = Reference(lege-berg)
* reasonReference = Reference(hjertesvikt)
* dosage.text = "40 mg morgen"

Instance: pleieplan-ernaering
InstanceOf: SkCarePlan
Title: "Pleieplan: væske og ernæring"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Pleieplan: væske og ernæring</p></div>"
* status = #active
* intent = #plan
* category = $problemomrade#vaeske-ernaering "Væske / ernæring"
* title = "Væske og ernæring"
* description = "Situasjon: nedsatt matlyst og vekttap. Mål: stabil vekt. Tiltak: veiing ukentlig, næringsdrikk."
* subject = Reference(kari-nordmann)
* period.start = "2025-09-01"
* author = Reference(sykepleier-hansen)
* addresses = Reference(hjertesvikt)
* activity.detail.status = #in-progress
* activity.detail.description = "Veiing hver mandag; næringsdrikk 2 ganger daglig."

Instance: iplos-personlig-hygiene
InstanceOf: SkFunctionalAssessment
Title: "IPLOS: personlig hygiene 3"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: IPLOS: personlig hygiene 3</p></div>"
* status = #final
* category[survey] = $obscat#survey
* code = $iplos#personlig-hygiene "Personlig hygiene"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-08-20"
* performer = Reference(sykepleier-hansen)
* valueInteger = 3

Instance: royk-tidligere
InstanceOf: SkSocialHistory
Title: "Tidligere røyker"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Tidligere røyker</p></div>"
* status = #final
* category[socialHistory] = $obscat#social-history
* code = $loinc#72166-2 "Tobacco smoking status"
* subject = Reference(kari-nordmann)
* effectiveDateTime = "2025-08-20"
* valueCodeableConcept = $sct#8517006 "Ex-smoker"

Instance: datter-nordmann
InstanceOf: SkRelatedPerson
Title: "Nærmeste pårørende: datter"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Nærmeste pårørende: datter</p></div>"
* active = true
* patient = Reference(kari-nordmann)
* relationship[0] = $v3RoleCode#DAU "natural daughter"
* relationship[+] = $v3RoleCode#NOK "next of kin"
* name.family = "Nordmann"
* name.given = "Randi"
* telecom.system = #phone
* telecom.value = "+4799999902"

Instance: notat-intern
InstanceOf: SkDocumentReference
Title: "Fortløpende notat (internal only)"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Fortløpende notat (internal only)</p></div>"
* meta.security = $v3Confidentiality#R "restricted"
* status = #current
* type = $loinc#11506-3 "Progress note"
* subject = Reference(kari-nordmann)
* date = "2025-11-03T09:00:00+01:00"
* author = Reference(sykepleier-hansen)
* custodian = Reference(hjemmesykepleien-sagene)
* content.attachment.contentType = #text/plain
* content.attachment.language = #nb
* content.attachment.data = "VGVtcC4gMzgsNC4gTkVXUzIgNi4gTGVnZSBrb250YWt0ZXQu"
* content.attachment.title = "Fortløpende notat"

Instance: sperring-lege-berg
InstanceOf: SkSperring
Title: "Sperring mot helsepersonell"
Description: "Kari Nordmann has blocked Per Berg from seeing her data."
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Sperring mot helsepersonell</p></div>"
* status = #active
* scope = $consentscope#patient-privacy
* category = $loinc#59284-0 "Patient Consent"
* patient = Reference(kari-nordmann)
* dateTime = "2024-06-01"
* policyRule = $v3ActCode#OPTOUT "opt-out"
* provision.type = #deny
* provision.period.start = "2024-06-01"
* provision.actor.role = $v3ParticipationType#IRCP "information recipient"
* provision.actor.reference = Reference(lege-berg)
* provision.code = $sperretype#helsepersonell "Sperring mot helsepersonell"

Instance: hlr-minus
InstanceOf: SkAdvanceDirective
Title: "HLR minus"
Description: "Kari Nordmann does not want cardiopulmonary resuscitation (pasient- og brukerrettighetsloven § 4-9)."
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: HLR minus</p></div>"
* status = #active
* scope = $consentscope#adr
* category = http://terminology.hl7.org/CodeSystem/consentcategorycodes#dnr "Do Not Resuscitate"
* patient = Reference(kari-nordmann)
* dateTime = "2025-10-01"
* performer = Reference(kari-nordmann)
* policy.uri = "https://lovdata.no/lov/1999-07-02-63/§4-9"
* provision.type = #deny
* provision.code = $sct#89666000 "Cardiopulmonary resuscitation"

Instance: provenance-vedtak
InstanceOf: SkProvenance
Title: "Provenance of the vedtak"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Provenance of the vedtak</p></div>"
* target = Reference(vedtak-hjemmesykepleie)
* recorded = "2025-08-25T13:02:00+02:00"
* activity = http://terminology.hl7.org/CodeSystem/v3-DataOperation#CREATE "create"
* agent.type = $provagent#author "Author"
* agent.who = Reference(sykepleier-hansen)
* agent.onBehalfOf = Reference(oslo-kommune)
* entity.role = #source
* entity.what.display = "Sandkasse PLO EPJ 1.0 (source system)"

Instance: audit-read-vedtak
InstanceOf: SkAuditEvent
Title: "Audit: the legevakt reads the vedtak"
Usage: #example
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Synthetic example: Audit: the legevakt reads the vedtak</p></div>"
* type = $dicomdcm#110110 "Patient Record"
* subtype = $restfulinteraction#read "read"
* action = #R
* recorded = "2025-11-03T22:14:05+01:00"
* outcome = #0
* purposeOfEvent = http://terminology.hl7.org/CodeSystem/v3-ActReason#ETREAT "Emergency Treatment"
* agent[0].type = $v3ParticipationType#AUT "author (originator)"
* agent[0].who = Reference(sykepleier-hansen-sagene)
* agent[0].requestor = true
* agent[0].purposeOfUse = http://terminology.hl7.org/CodeSystem/v3-ActReason#ETREAT "Emergency Treatment"
* agent[+].who = Reference(oslo-kommune)
* agent[=].requestor = false
* source.site = "0301"
* source.observer.display = "sandkasse platform, tenant 0301"
* entity[0].what = Reference(kari-nordmann)
* entity[=].type = http://terminology.hl7.org/CodeSystem/audit-entity-type#1 "Person"
* entity[=].role = http://terminology.hl7.org/CodeSystem/object-role#1 "Patient"
* entity[+].what = Reference(vedtak-hjemmesykepleie)
* entity[=].type = http://terminology.hl7.org/CodeSystem/audit-entity-type#2 "System Object"
