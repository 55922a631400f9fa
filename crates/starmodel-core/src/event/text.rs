//! Reading text parameters (path segments, query, form fields) the way serde reads
//! JSON: `"10"` fills an `i64` and a `String` alike, `""` is `None` for an
//! `Option`, and a collection is written as JSON text (`[1,2]`).

use serde::de::{self, Error as _, IntoDeserializer, Unexpected, Visitor};
use serde_json::{Error, Value};

/// A deserializer over one text value.
pub(crate) struct Text<'a>(pub(crate) &'a str);

impl Text<'_> {
    fn json(&self) -> Result<Value, Error> {
        serde_json::from_str(self.0)
    }
}

macro_rules! parse_scalar {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0.trim().parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(Error::invalid_type(Unexpected::Str(self.0), &visitor)),
            }
        }
    )*};
}

macro_rules! through_json {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            de::Deserializer::$method(self.json()?, visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Text<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    parse_scalar! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
        deserialize_char => visit_char: char,
    }

    through_json! {
        deserialize_bytes, deserialize_byte_buf, deserialize_seq, deserialize_map,
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_empty() || self.0 == "null" {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_empty() || self.0 == "null" {
            visitor.visit_unit()
        } else {
            Err(Error::invalid_type(Unexpected::Str(self.0), &visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_tuple(self.json()?, len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_tuple_struct(self.json()?, name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(self.json()?, name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if self.0.trim_start().starts_with('{') {
            return de::Deserializer::deserialize_enum(self.json()?, name, variants, visitor);
        }
        let unit: de::value::StrDeserializer<'_, Error> = self.0.into_deserializer();
        de::Deserializer::deserialize_enum(unit, name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::Text;

    fn read<'a, T: Deserialize<'a>>(s: &'a str) -> Result<T, String> {
        T::deserialize(Text(s)).map_err(|e| e.to_string())
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Color {
        Red,
        Blue,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Point {
        x: i32,
    }

    #[test]
    fn scalars_parse_from_text() {
        assert_eq!(read::<i64>("-12"), Ok(-12));
        assert_eq!(read::<u8>("10"), Ok(10));
        assert_eq!(read::<f64>("1.5"), Ok(1.5));
        assert_eq!(read::<bool>("true"), Ok(true));
        assert_eq!(read::<String>("10"), Ok("10".to_owned()));
        assert_eq!(read::<Option<i64>>(""), Ok(None));
        assert_eq!(read::<Option<i64>>("7"), Ok(Some(7)));
        assert_eq!(read::<Option<String>>("x"), Ok(Some("x".to_owned())));
        assert_eq!(read::<Color>("blue"), Ok(Color::Blue));
        assert_ne!(read::<Color>("red"), Ok(Color::Blue));
    }

    #[test]
    fn collections_are_json_text() {
        assert_eq!(read::<Vec<i32>>("[1,2]"), Ok(vec![1, 2]));
        assert_eq!(read::<Point>(r#"{"x":3}"#), Ok(Point { x: 3 }));
        assert_eq!(read::<(i32, bool)>("[1,true]"), Ok((1, true)));
    }

    #[test]
    fn errors_say_what_was_expected() {
        assert_eq!(
            read::<i64>("ten"),
            Err(r#"invalid type: string "ten", expected i64"#.to_owned())
        );
        assert_eq!(
            read::<Option<u8>>("300"),
            Err(r#"invalid type: string "300", expected u8"#.to_owned())
        );
        assert!(
            read::<Color>("green")
                .unwrap_err()
                .contains("unknown variant `green`")
        );
    }
}
