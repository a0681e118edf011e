//! Guides for users coming from another library. Documentation only: nothing here is code.

pub mod augflow_for_keras_users;
