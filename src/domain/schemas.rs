//! Schemas of domain values built from the service's own rules and lists, so the document names exactly the
//! values the validators accept (used with `#[schema(schema_with = …)]` and
//! `#[param(schema_with = …)]`).

use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayBuilder, ArrayItems, ObjectBuilder, OneOfBuilder, SchemaType,
    Type,
};
use utoipa::openapi::{RefOr, Schema};

/// A tag or interest: what `crate::domain::check_tag` accepts.
pub const TAG_PATTERN: &str = "^[a-z0-9-]{1,64}$";

/// A string that must be one of `values`.
pub fn one_of(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

fn tag() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(TAG_PATTERN))
}

/// An array of `items`; `null` allowed when the field is optional.
pub fn list(items: ObjectBuilder, nullable: bool) -> RefOr<Schema> {
    let kind = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(kind)
        .items(items)
        .build()
        .into()
}

/// An IANA time-zone name, as `crate::domain::Timezone::parse` knows them.
pub fn timezone() -> RefOr<Schema> {
    one_of(chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())).into()
}

/// A short free text: 1–64 characters once trimmed (so at most 64, with one that is not
/// white space), as the services' `1..=64` checks on trimmed text accept.
pub fn short_text() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some(r"\S"))
}

/// At most 20 short texts (a test person's interests in "Try it").
pub fn short_texts() -> RefOr<Schema> {
    let RefOr::T(Schema::Array(mut array)) = list(short_text(), false) else {
        unreachable!("list() is an array schema")
    };
    array.max_items = Some(20);
    array.into()
}

/// A list of tags.
pub fn tags() -> RefOr<Schema> {
    list(tag(), false)
}

/// A list of tags, or `null`.
pub fn tags_or_null() -> RefOr<Schema> {
    list(tag(), true)
}

/// A fence's tags: at most 32.
pub fn fence_tags() -> RefOr<Schema> {
    let RefOr::T(Schema::Array(mut array)) = tags() else {
        unreachable!("tags() is an array schema")
    };
    array.max_items = Some(32);
    array.into()
}

/// A GeoJSON Point, Polygon or MultiPolygon as `crate::fences::FenceGeometry::parse` takes it:
/// positions `[lon, lat]` (altitude allowed and ignored), rings of 4+ positions. What a schema
/// cannot say (closed, non-crossing rings; holes inside shells) is in the field's description.
pub fn geometry() -> RefOr<Schema> {
    let number = |min: Option<f64>, max: Option<f64>| {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(min)
            .maximum(max)
            .build()
    };
    let position = ArrayBuilder::new()
        .prefix_items([
            number(Some(-180.0), Some(180.0)),
            number(Some(-90.0), Some(90.0)),
            number(None, None),
        ])
        .items(ArrayItems::False)
        .min_items(Some(2))
        .max_items(Some(3))
        .build();
    let array_of = |items: Array, min: usize| {
        ArrayBuilder::new()
            .items(RefOr::T(Schema::Array(items)))
            .min_items(Some(min))
            .build()
    };
    let polygon = array_of(array_of(position.clone(), 4), 1);
    let shape = |kind: &'static str, coordinates: Array| {
        ObjectBuilder::new()
            .property("type", one_of([kind]))
            .property("coordinates", coordinates)
            .required("type")
            .required("coordinates")
            .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
    };
    OneOfBuilder::new()
        .item(shape("Point", position))
        .item(shape("Polygon", polygon.clone()))
        .item(shape("MultiPolygon", array_of(polygon, 1)))
        .into()
}

/// A batch's items: 1–`max` values of any shape, each parsed on its own so a malformed one
/// is answered in the results rather than sinking the batch; `item` says what each should be.
pub fn any_items(item: &str, max: usize) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some(format!(
                    "{item}. Any value is accepted here and answered in the results."
                ))),
        )
        .min_items(Some(1))
        .max_items(Some(max))
        .into()
}
