// Patient, Practitioner, PractitionerRole and Organization, in line with HL7 Norway's no-basis:
// identifiers sliced by system, Norwegian address with the municipality code.

RuleSet: SandboxProfile
* ^status = #active
* ^experimental = false
* ^publisher = "sandkasse"

RuleSet: IdentifierSlicing
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier ^slicing.description = "Sliced by identifier system (OID)."

RuleSet: NorwegianAddress
* address MS
* address.use MS
* address.line MS
* address.postalCode MS
* address.city MS
* address.district MS
* address.district.extension contains NoBasisMunicipalitycode named municipalitycode 0..1 MS
* address.country MS

Profile: SkPatient
Parent: Patient
Id: sk-patient
Title: "sandkasse Patient"
Description: "A patient (innbygger) of a municipality: identified by fødselsnummer, D-nummer or FH-nummer, with a Norwegian address carrying the kommunenummer."
* insert SandboxProfile
* obeys sk-fnr-format and sk-dnr-format and sk-fhn-format
* insert IdentifierSlicing
* identifier 1..* MS
* identifier contains fnr 0..1 MS and dnr 0..1 MS and fhn 0..1 MS
* identifier[fnr] ^short = "Fødselsnummer"
* identifier[fnr].system 1..1 MS
* identifier[fnr].system = "urn:oid:2.16.578.1.12.4.1.4.1" (exactly)
* identifier[fnr].value 1..1 MS
* identifier[dnr] ^short = "D-nummer"
* identifier[dnr].system 1..1 MS
* identifier[dnr].system = "urn:oid:2.16.578.1.12.4.1.4.2" (exactly)
* identifier[dnr].value 1..1 MS
* identifier[fhn] ^short = "FH-nummer (felles hjelpenummer)"
* identifier[fhn].system 1..1 MS
* identifier[fhn].system = "urn:oid:2.16.578.1.12.4.1.4.3" (exactly)
* identifier[fhn].value 1..1 MS
* active MS
* name 1..* MS
* name.family MS
* name.given MS
* telecom MS
* gender 1..1 MS
* birthDate 1..1 MS
* deceased[x] MS
* insert NorwegianAddress
* communication MS
* communication.language MS
* generalPractitioner MS
* generalPractitioner ^short = "Fastlege"
* managingOrganization MS

Profile: SkPractitioner
Parent: Practitioner
Id: sk-practitioner
Title: "sandkasse Practitioner"
Description: "Health personnel, identified by their HPR-nummer."
* insert SandboxProfile
* obeys sk-hpr-format
* insert IdentifierSlicing
* identifier 1..* MS
* identifier contains hpr 1..1 MS
* identifier[hpr] ^short = "HPR-nummer"
* identifier[hpr].system 1..1 MS
* identifier[hpr].system = "urn:oid:2.16.578.1.12.4.1.4.4" (exactly)
* identifier[hpr].value 1..1 MS
* name 1..* MS
* name.family MS
* name.given MS
* telecom MS
* qualification MS

Profile: SkPractitionerRole
Parent: PractitionerRole
Id: sk-practitionerrole
Title: "sandkasse PractitionerRole"
Description: "The role a practitioner has at an organisation (e.g. sykepleier in hjemmesykepleien, lege at legevakten)."
* insert SandboxProfile
* active MS
* practitioner 1..1 MS
* practitioner only Reference(SkPractitioner)
* organization 1..1 MS
* organization only Reference(SkOrganization)
* code 1..* MS
* specialty MS
* telecom MS

Profile: SkOrganization
Parent: Organization
Id: sk-organization
Title: "sandkasse Organization"
Description: "A legal entity (the municipality, a GP practice) identified by organisasjonsnummer, or a service unit (tjenestested) that is partOf one."
* insert SandboxProfile
* obeys sk-orgnr-format and sk-her-format
* insert IdentifierSlicing
* identifier 1..* MS
* identifier contains orgnr 1..1 MS and her 0..1 MS
* identifier[orgnr] ^short = "Organisasjonsnummer (Enhetsregisteret)"
* identifier[orgnr].system 1..1 MS
* identifier[orgnr].system = "urn:oid:2.16.578.1.12.4.1.4.101" (exactly)
* identifier[orgnr].value 1..1 MS
* identifier[her] ^short = "HER-id (adresseregisteret)"
* identifier[her].system 1..1 MS
* identifier[her].system = "urn:oid:2.16.578.1.12.4.1.2" (exactly)
* identifier[her].value 1..1 MS
* active MS
* type MS
* type from OrganisasjonstypeVS (extensible)
* name 1..1 MS
* telecom MS
* insert NorwegianAddress
* partOf MS
* partOf only Reference(SkOrganization)
