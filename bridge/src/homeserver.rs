//! The homeserver's client-server API, as the application service: ruma's typed requests over
//! reqwest, each acting as one of the bridge's virtual users.

use std::borrow::Cow;

use brigade_core::secret::Secret;
use ruma::api::{
    auth_scheme::SendAccessToken, error::FromHttpResponseError, AppserviceUserIdentity,
    IncomingResponse, MatrixVersion, OutgoingRequest, OutgoingRequestAppserviceExt,
    SupportedVersions,
};
use url::Url;

/// Why a request to the homeserver failed.
#[derive(Debug, thiserror::Error)]
pub enum HomeserverError {
    /// The request could not be built (a bug, or an unusable homeserver URL).
    #[error("cannot build the request: {0}")]
    Build(String),
    /// The homeserver could not be reached, or did not answer in time.
    #[error("homeserver unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// The homeserver answered with an error.
    #[error("homeserver answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Its `errcode` and `error`, or the body.
        message: String,
    },
}

impl HomeserverError {
    /// Whether asking again would be answered the same: a 4xx other than 429 and 408.
    pub fn for_good(&self) -> bool {
        matches!(self, Self::Refused { status, .. } if (400..500).contains(status) && *status != 429 && *status != 408)
    }

    /// The Matrix error code, if the homeserver gave one.
    pub fn errcode(&self) -> Option<&str> {
        match self {
            Self::Refused { message, .. } => message.split(':').next(),
            _ => None,
        }
    }
}

/// The homeserver, as the application service sees it.
#[derive(Debug, Clone)]
pub struct Homeserver {
    http: reqwest::Client,
    base: String,
    as_token: Secret,
    versions: SupportedVersions,
}

impl Homeserver {
    /// The homeserver at `url`, reached with `as_token`.
    pub fn new(url: &Url, as_token: Secret) -> Result<Self, HomeserverError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        let versions = SupportedVersions {
            versions: [MatrixVersion::V1_1, MatrixVersion::V1_7].into(),
            features: Default::default(),
        };
        Ok(Self {
            http,
            base: url.as_str().trim_end_matches('/').to_owned(),
            as_token,
            versions,
        })
    }

    /// The matrix versions requests are built for.
    pub fn versions(&self) -> Cow<'_, SupportedVersions> {
        Cow::Borrowed(&self.versions)
    }

    /// Asks the homeserver to call the bridge back (`POST /_matrix/client/v1/appservice/{id}/ping`,
    /// authenticated as the application service): it answers only once it reaches the bridge.
    pub async fn ping(&self, appservice_id: &str) -> Result<(), HomeserverError> {
        let url = format!(
            "{}/_matrix/client/v1/appservice/{appservice_id}/ping",
            self.base
        );
        let response = self
            .http
            .post(url)
            .bearer_auth(self.as_token.expose())
            .json(&serde_json::json!({}))
            .send()
            .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(HomeserverError::Refused {
            status: status.as_u16(),
            message: body.chars().take(200).collect(),
        })
    }

    /// Sends `request` as the virtual user `as_user` (the bridge's own user when `None`).
    pub async fn send<R>(
        &self,
        request: R,
        as_user: Option<&ruma::UserId>,
        path: <R::PathBuilder as ruma::api::path_builder::PathBuilder>::Input<'_>,
    ) -> Result<R::IncomingResponse, HomeserverError>
    where
        R: OutgoingRequest,
        for<'a> R::Authentication:
            ruma::api::auth_scheme::AuthScheme<Input<'a> = SendAccessToken<'a>>,
    {
        let identity = match as_user {
            Some(user) => AppserviceUserIdentity::new(user),
            None => AppserviceUserIdentity::default(),
        };
        let request = request
            .try_into_http_request_with_identity::<Vec<u8>>(
                &self.base,
                SendAccessToken::Always(self.as_token.expose()),
                identity,
                path,
            )
            .map_err(|error| HomeserverError::Build(error.to_string()))?;
        let request = reqwest::Request::try_from(request)?;
        let response = self.http.execute(request).await?;
        let status = response.status();
        let mut builder = http::Response::builder().status(status);
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let body = response.bytes().await?.to_vec();
        if !status.is_success() {
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let message = match (json["errcode"].as_str(), json["error"].as_str()) {
                (Some(code), Some(text)) => format!("{code}: {text}"),
                (Some(code), None) => code.to_owned(),
                _ => String::from_utf8_lossy(&body).chars().take(200).collect(),
            };
            return Err(HomeserverError::Refused {
                status: status.as_u16(),
                message,
            });
        }
        let response = builder
            .body(body)
            .map_err(|error| HomeserverError::Build(error.to_string()))?;
        R::IncomingResponse::try_from_http_response(response).map_err(
            |error: FromHttpResponseError<R::EndpointError>| HomeserverError::Refused {
                status: status.as_u16(),
                message: format!("unreadable answer: {error}"),
            },
        )
    }
}
