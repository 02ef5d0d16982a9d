// FHIRPath invariants. Kept within what fhirpathpy evaluates (no hasValue, resolve, conformsTo or
// memberOf), so the platform's Python validator runs exactly these expressions.

Invariant: sk-fnr-format
Description: "A fødselsnummer is 11 digits."
Severity: #error
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.1').all(value.matches('^[0-9]{11}$'))"

Invariant: sk-dnr-format
Description: "A D-nummer is 11 digits whose first digit is 4–7 (day + 40)."
Severity: #error
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.2').all(value.matches('^[4-7][0-9]{10}$'))"

Invariant: sk-fhn-format
Description: "An FH-nummer is 11 digits whose first digit is 8 or 9."
Severity: #error
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.3').all(value.matches('^[89][0-9]{10}$'))"

Invariant: sk-hpr-format
Description: "An HPR-nummer is 4 to 9 digits."
Severity: #error
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.4').all(value.matches('^[0-9]{4,9}$'))"

Invariant: sk-orgnr-format
Description: "An organisasjonsnummer is 9 digits."
Severity: #error
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.4.101').all(value.matches('^[0-9]{9}$'))"

Invariant: sk-her-format
Description: "A HER-id is 1 to 9 digits."
Severity: #error
Expression: "identifier.where(system = 'urn:oid:2.16.578.1.12.4.1.2').all(value.matches('^[0-9]{1,9}$'))"

Invariant: sk-kommunenummer-format
Description: "A kommunenummer is 4 digits."
Severity: #error
Expression: "value.ofType(Coding).code.matches('^[0-9]{4}$')"

Invariant: sk-nonnegative-quantity
Description: "The quantity is not negative."
Severity: #error
Expression: "value.empty() or value >= 0"

Invariant: sk-period-order
Description: "The period ends no earlier than it starts."
Severity: #error
Expression: "period.end.empty() or period.start.empty() or period.end.toString().substring(0, 10) >= period.start.toString().substring(0, 10)"

Invariant: sk-vedtak-review-after-start
Description: "The review date (revurderingsdato) is not before the service starts."
Severity: #error
Expression: "period.start.empty() or extension.where(url = 'https://sandkasse.no/fhir/StructureDefinition/revurderingsdato').value.ofType(date).empty() or extension.where(url = 'https://sandkasse.no/fhir/StructureDefinition/revurderingsdato').value.ofType(date).toString() >= period.start.toString().substring(0, 10)"

Invariant: sk-news2-total-sum
Description: "The NEWS2 total equals the sum of its seven component scores."
Severity: #error
// Spelled out over the seven components (the profile's closed 7..7 slicing) because neither
// sum() nor aggregate() runs in every engine vendors use (fhirpathpy, Medplum).
Expression: "value.ofType(integer) = component[0].value.ofType(integer) + component[1].value.ofType(integer) + component[2].value.ofType(integer) + component[3].value.ofType(integer) + component[4].value.ofType(integer) + component[5].value.ofType(integer) + component[6].value.ofType(integer)"

Invariant: sk-news2-derived-from
Description: "A NEWS2 score always links the measurements it was derived from (at least 7)."
Severity: #error
Expression: "derivedFrom.count() >= 7"

Invariant: sk-news2-total-range
Description: "The NEWS2 total is between 0 and 20."
Severity: #error
Expression: "value.ofType(integer).all($this >= 0 and $this <= 20)"

Invariant: sk-news2-component-range
Description: "A NEWS2 component score is between 0 and 3."
Severity: #error
Expression: "value.ofType(integer).all($this >= 0 and $this <= 3)"

Invariant: sk-spo2-scale
Description: "The SpO2 scale is 1 or 2."
Severity: #error
Expression: "component.where(code.coding.where(system = 'https://sandkasse.no/fhir/CodeSystem/news2' and code = 'spo2-scale').exists()).value.ofType(integer).all($this = 1 or $this = 2)"

Invariant: sk-iplos-score
Description: "An IPLOS functional score is 1–5, or 9 (not relevant)."
Severity: #error
Expression: "value.ofType(integer).all(($this >= 1 and $this <= 5) or $this = 9)"

Invariant: sk-vital-value-or-absent
Description: "A vital sign has a value or says why it is absent."
Severity: #error
Expression: "value.exists() or dataAbsentReason.exists() or component.exists()"

Invariant: sk-sperring-actor-or-class
Description: "A block (sperring) names whom it blocks (provision.actor) or what it blocks (provision.class, code or data)."
Severity: #error
Expression: "provision.actor.exists() or provision.class.exists() or provision.code.exists() or provision.data.exists()"

Invariant: sk-condition-code-system
Description: "A condition is coded in ICPC-2, ICD-10 or SNOMED CT."
Severity: #error
Expression: "code.coding.where(system = 'http://hl7.org/fhir/sid/icpc-2' or system = 'http://hl7.org/fhir/sid/icd-10-no' or system = 'http://snomed.info/sct').exists()"

Invariant: sk-vedtak-identifier
Description: "The vedtak id's system is https://sandkasse.no/fhir/sid/vedtak/<kommunenummer>."
Severity: #error
Expression: "identifier.all(system.matches('^https://sandkasse[.]no/fhir/sid/vedtak/[0-9]{4}$'))"

Invariant: sk-careplan-problemomrade
Description: "A care plan names its nursing problem area (category from sykepleie-problemomrade)."
Severity: #error
Expression: "category.coding.where(system = 'https://sandkasse.no/fhir/CodeSystem/sykepleie-problemomrade').exists()"

Invariant: sk-kpr-coding
Description: "The service has exactly one national service type (KPR) coding."
Severity: #error
Expression: "type.coding.where(system = 'https://sandkasse.no/fhir/CodeSystem/kpr-tjenestetype').count() = 1"
